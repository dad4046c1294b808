"""A real browser (Debian's chromium, driven by Selenium through chromium-driver) on the dashboard.

The control plane is the rig behind a front door on a free port (tests/security/conftest.py's
``served``), with an owner's OpenID provider, so the page is driven as an operator and as an owner.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

from tests.api.test_doorman import idp  # noqa: F401 - the loopback OpenID provider fixture
from tests.security.conftest import served  # noqa: F401 - the rig on loopback, with owners' tokens

# Screenshots of each view land here (git-ignored), for a person to look at after a run.
SCREENSHOTS = Path(__file__).resolve().parents[1] / "output" / "dashboard"


def _binary(*names: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(f"none of {names} on PATH: `make setup` installs Debian's chromium and chromium-driver")


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    options = Options()
    options.binary_location = _binary("chromium", "chromium-browser")
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,1000",
    ):
        options.add_argument(argument)
    # The system's driver, named outright: Selenium Manager would otherwise try to download one.
    driver = webdriver.Chrome(options=options, service=Service(executable_path=_binary("chromedriver")))
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def screenshots(request: pytest.FixtureRequest) -> Path:
    folder = Path(os.environ.get("DASHBOARD_SCREENSHOTS") or SCREENSHOTS)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
