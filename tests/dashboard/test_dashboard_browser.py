"""The dashboard in a real browser against the rig: what it shows, that it escapes, and whom it shows it to."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from sandbox.arm.faults import Fault, Gate
from sandbox.rig import ControlPlaneRig
from tests.api.identity_provider import IdentityProvider
from tests.security.conftest import OPERATOR_KEY

pytestmark = pytest.mark.timeout(90)
WAIT_SECONDS = 20
HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
OPERATOR = {"x-api-key": OPERATOR_KEY}


def sign_in(browser: webdriver.Chrome, base: str, credential: str, view: str = "fleet") -> None:
    browser.get(f"{base}/api/cp/dashboard#{view}")
    browser.execute_script("sessionStorage.clear()")
    browser.refresh()
    field = wait_for(
        browser,
        lambda b: b.find_element(By.ID, "credential") if b.find_element(By.ID, "credential").is_displayed() else None,
    )
    field.send_keys(credential)
    browser.find_element(By.CSS_SELECTOR, "#sign-in-form button").click()
    wait_for(browser, lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-rendered"))


def wait_for(browser: webdriver.Chrome, found: Callable[[webdriver.Chrome], Any], what: str = "") -> Any:
    try:
        # The page re-renders on every refresh: an element found a moment ago may be gone, so look again.
        ignored = (NoSuchElementException, StaleElementReferenceException)
        return WebDriverWait(browser, WAIT_SECONDS, 0.2, ignored).until(lambda b: found(b) or None)
    except TimeoutException:
        pytest.fail(
            f"the page never showed {what or found}; it shows:\n{browser.find_element(By.TAG_NAME, 'body').text}"
        )


def shown(selector: str) -> Callable[[webdriver.Chrome], Any]:
    return lambda b: b.find_elements(By.CSS_SELECTOR, selector)


def text_of(browser: webdriver.Chrome, element_id: str) -> str:
    found = browser.find_elements(By.ID, element_id)
    return found[0].text if found else ""


def texts(browser: webdriver.Chrome, selector: str) -> list[str]:
    """The text of every match, read in one go (no element can go stale between two reads)."""
    found: list[str] = browser.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map((e) => e.textContent)", selector
    )
    return found


def create(base: str, name: str, owner: str, headers: dict[str, str] = OPERATOR) -> dict[str, Any]:
    answer = requests.post(
        f"{base}/api/cp/brainstems", json={"name": name, "owner": owner}, headers=headers, timeout=10
    )
    assert answer.status_code == 202, answer.text
    return answer.json()


def wait_done(base: str, job_id: str) -> dict[str, Any]:
    for _ in range(400):
        answer = requests.get(f"{base}/api/cp/brainstems/{job_id}", headers=OPERATOR, timeout=10)
        if answer.status_code == 200:
            return answer.json()
        time.sleep(0.1)  # the job runs on the rig's threads; ask again in a moment
    pytest.fail(f"job {job_id} never ended")


def test_the_page_loads_without_a_credential_under_a_strict_policy(served: tuple[ControlPlaneRig, str]) -> None:
    _, base = served
    page = requests.get(f"{base}/api/cp/dashboard", timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script>" not in page.text.replace('<script src="dashboard/dashboard.js" defer></script>', "")
    script = requests.get(f"{base}/api/cp/dashboard/dashboard.js", timeout=10)
    assert script.headers["Content-Type"].startswith("text/javascript")
    for probe in ("index.html", "..%2Fdashboard.py", "..%2F..%2Fopenapi.yaml", "%2Fetc%2Fpasswd"):
        assert requests.get(f"{base}/api/cp/dashboard/{probe}", timeout=10).status_code == 404, probe
    # The page holds no rights: the data it shows still needs the caller's own credential.
    assert requests.get(f"{base}/api/cp/fleet/capacity", timeout=10).status_code == 401


def test_an_operator_sees_a_create_arrive_and_an_arm_error_as_text(
    served: tuple[ControlPlaneRig, str], browser: webdriver.Chrome, screenshots: Path
) -> None:
    rig, base = served
    sign_in(browser, base, OPERATOR_KEY)
    assert "no twins yet" in text_of(browser, "view")

    kody = create(base, "kody", "github:alice")
    wait_for(browser, shown(f'#twins tr[data-cloud-id="{kody["cloud_id"]}"]'), "the new twin")
    assert wait_done(base, kody["job_id"])["runtime_status"] == "Completed"

    rig.arm.inject(
        Fault(route="storage_accounts.create", kind="error", status=400, code="InvalidParameter", message=HOSTILE)
    )
    broken = create(base, "molly", "github:bob")
    assert wait_done(base, broken["job_id"])["runtime_status"] == "Failed"
    row = wait_for(browser, shown(f'#trouble tr[data-cloud-id="{broken["cloud_id"]}"]'), "the errored twin")[0]
    assert HOSTILE in row.text  # shown as the text it is
    assert browser.execute_script("return window.__pwned") is None  # and never run
    assert not browser.find_elements(By.CSS_SELECTOR, "#view script, #view img")
    wait_for(browser, lambda b: "active" in text_of(b, "by-status"), "the counts")
    browser.save_screenshot(str(screenshots / "fleet.png"))

    row.find_element(By.CSS_SELECTOR, "a.twin-link").click()
    wait_for(browser, lambda b: HOSTILE in text_of(b, "twin-error"), "the twin's error")
    row_fields = dict(zip(texts(browser, "#twin-row dt"), texts(browser, "#twin-row dd"), strict=True))
    assert row_fields["owner"] == "github:bob"
    steps = dict(
        browser.execute_script(
            "return [...document.querySelectorAll('#job-steps li')].map((s) => [s.dataset.step, s.className])"
        )
    )
    assert steps["resource_group"] == "done" and steps["storage_account"] == "failed" and steps["active"] == "pending"
    assert browser.execute_script("return window.__pwned") is None
    browser.save_screenshot(str(screenshots / "twin.png"))


def test_a_rollouts_waves_advance_on_the_page(
    served: tuple[ControlPlaneRig, str], browser: webdriver.Chrome, screenshots: Path
) -> None:
    rig, base = served
    for name in ("kody", "molly"):
        assert wait_done(base, create(base, name, "github:alice")["job_id"])["runtime_status"] == "Completed"
    gate = Gate()  # holds the first twin's update in ARM until the page has shown the wave in flight
    rig.arm.inject(Fault(route="sites.update_application_settings", kind="hang", gate=gate))
    body = {"deploy_ref": "v2", "waves": {"canary": 1, "parallelism": 1}}
    started = requests.post(f"{base}/api/cp/rollouts", json=body, headers=OPERATOR, timeout=10)
    assert started.status_code == 202, started.text
    rollout = started.json()["rollout_id"]
    sign_in(browser, base, OPERATOR_KEY, view="rollouts")
    card = f'[data-rollout-id="{rollout}"]'
    assert gate.entered.wait(WAIT_SECONDS)
    wait_for(
        browser,
        lambda b: "0/1 …" in b.find_element(By.CSS_SELECTOR, f'{card} [data-wave="0"]').text,
        "wave 0 in flight",
    )
    assert browser.find_elements(By.CSS_SELECTOR, f'{card} button[data-action="pause"]')
    gate.open()
    wait_for(
        browser, lambda b: "completed" in b.find_element(By.CSS_SELECTOR, f"{card} h2").text, "the rollout completed"
    )
    assert texts(browser, f"{card} .wave .wave-counts") == ["1/1", "1/1"]
    assert not browser.find_elements(By.CSS_SELECTOR, f"{card} .controls button")  # an ended rollout has no controls
    browser.save_screenshot(str(screenshots / "rollouts.png"))


def test_an_operator_approves_the_next_wave_from_the_page(
    served: tuple[ControlPlaneRig, str], browser: webdriver.Chrome
) -> None:
    rig, base = served
    for name in ("kody", "molly"):
        assert wait_done(base, create(base, name, "github:alice")["job_id"])["runtime_status"] == "Completed"
    body = {"deploy_ref": "v3", "waves": {"canary": 1, "parallelism": 1, "approve_after": ["canary"]}}
    started = requests.post(f"{base}/api/cp/rollouts", json=body, headers=OPERATOR, timeout=10)
    assert started.status_code == 202, started.text
    rollout = started.json()["rollout_id"]
    sign_in(browser, base, OPERATOR_KEY, view="rollouts")
    card = f'[data-rollout-id="{rollout}"]'
    approve = wait_for(browser, shown(f'{card} button[data-action="approve"]'), "the approve button")
    browser.execute_script("window.confirm = () => true")  # the page asks before approving
    approve[0].click()
    wait_for(
        browser, lambda b: "completed" in b.find_element(By.CSS_SELECTOR, f"{card} h2").text, "the rollout completed"
    )
    record = requests.get(f"{base}/api/cp/rollouts/{rollout}", headers=OPERATOR, timeout=10).json()
    assert [a["wave"] for a in record["approvals"]] == [0]


def test_an_owner_sees_only_their_own_twins(
    served: tuple[ControlPlaneRig, str], browser: webdriver.Chrome, screenshots: Path, idp: IdentityProvider
) -> None:
    _, base = served
    mine = create(base, "kody", "github:alice")
    theirs = create(base, "molly", "github:bob")
    sign_in(browser, base, idp.token("alice"))
    wait_for(browser, shown(f'#twins tr[data-cloud-id="{mine["cloud_id"]}"]'), "alice's twin")
    assert texts(browser, "#twins tbody tr td:first-child") == [mine["cloud_id"]]
    assert theirs["cloud_id"] not in browser.find_element(By.TAG_NAME, "body").text
    assert "owner" in text_of(browser, "who")
    # Another owner's twin: not found, as the API says.
    browser.get(f"{base}/api/cp/dashboard#twin/{theirs['cloud_id']}")
    wait_for(browser, lambda b: "no brainstem" in text_of(b, "view-error"), "a refusal")
    assert not browser.find_elements(By.CSS_SELECTOR, "#twins")  # alice's own list is not left on show
    assert "github:bob" not in browser.find_element(By.TAG_NAME, "body").text
    browser.get(f"{base}/api/cp/dashboard#fleet")
    wait_for(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#twins tbody tr"), "alice's twins")
    browser.save_screenshot(str(screenshots / "owner.png"))
