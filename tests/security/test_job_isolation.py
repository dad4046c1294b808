"""Owner A attacks owner B's job with everything A's own answers gave it (issue 11's attack, replayed).

A collects every URL, header and field of its own 202s and job answers, substitutes B's job_id, and
tries to read, list, terminate, purge, suspend, resume, rewind and raise events — through our API
and through Durable's own webhooks on the same origin. Every attempt fails; B's job ends normally.
"""

from __future__ import annotations

import re
import time
from typing import Any

import requests

from sandbox.rig import ControlPlaneRig
from tests.api.identity_provider import IdentityProvider

TASK_HUB = "TwinStackControlPlane"


def wait_done(base: str, job_id: str, headers: dict[str, str]) -> dict[str, Any]:
    for _ in range(600):
        answer = requests.get(f"{base}/api/cp/brainstems/{job_id}", headers=headers, timeout=10)
        assert answer.status_code in (200, 202), answer.text
        if answer.status_code == 200:
            return dict(answer.json())
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never ended")


def strings_in(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_in(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings_in(v)]
    return [value] if isinstance(value, str) else []


def test_an_owner_cannot_reach_another_owners_job_with_anything_its_own_answers_gave_it(
    served: tuple[ControlPlaneRig, str], idp: IdentityProvider
) -> None:
    rig, base = served
    alice, bob = idp.bearer("alice"), idp.bearer("bob")
    bobs = requests.post(f"{base}/api/cp/brainstems", json={"name": "molly"}, headers=bob, timeout=10)
    assert bobs.status_code == 202
    bob_job = bobs.json()["job_id"]

    # Everything alice's own create, job and twin answers hand her.
    mine = requests.post(f"{base}/api/cp/brainstems", json={"name": "kody"}, headers=alice, timeout=10)
    assert mine.status_code == 202
    her_job = mine.json()["job_id"]
    seen = [mine.headers.get("Location", ""), *strings_in(mine.json()), *mine.headers.values()]
    running = requests.get(f"{base}/api/cp/brainstems/{her_job}", headers=alice, timeout=10)
    seen += [*running.headers.values(), *strings_in(running.json())]
    finished = wait_done(base, her_job, alice)
    seen += strings_in(finished)
    assert not [s for s in seen if "code=" in s or "webhooks" in s or "taskHub" in s], "a Durable URL leaked"

    # Every URL she saw, pointed at bob's job; and Durable's own API on the same origin, as the
    # extension documents it (instances, query, terminate, purge, suspend, resume, rewind, raiseEvent).
    urls = {u.replace(her_job, bob_job) for u in seen if re.match(r"(https?://|/)", u) and her_job in u}
    hooks = "/runtime/webhooks/durabletask/instances"
    query = f"?taskHub={TASK_HUB}&connection=Storage"
    attempts: list[tuple[str, str]] = [("GET", u if u.startswith("http") else base + u) for u in urls]
    attempts += [
        ("GET", f"{base}{hooks}/{bob_job}{query}&showInput=true"),
        ("GET", f"{base}{hooks}{query}&showInput=true"),
        ("GET", f"{base}{hooks}{query}&code="),
        ("POST", f"{base}{hooks}/{bob_job}/terminate{query}&reason=pwned"),
        ("POST", f"{base}{hooks}/{bob_job}/suspend{query}"),
        ("POST", f"{base}{hooks}/{bob_job}/resume{query}"),
        ("POST", f"{base}{hooks}/{bob_job}/rewind{query}"),
        ("POST", f"{base}{hooks}/{bob_job}/raiseEvent/control{query}"),
        ("DELETE", f"{base}{hooks}/{bob_job}{query}"),
        ("DELETE", f"{base}/api/cp/brainstems/{bob_job}"),
        ("POST", f"{base}/api/cp/brainstems/{bob_job}/wake"),
    ]
    for method, url in attempts:
        for headers in (alice, {}):
            answer = requests.request(method, url, headers=headers, json={}, timeout=10)
            assert answer.status_code in (401, 404, 405), (method, url, answer.status_code)
            # Nothing of bob's: not his twin, not his owner id, not his job's input or status.
            assert "molly" not in answer.text and "github:bob" not in answer.text, (method, url)
            assert "runtime_status" not in answer.text and "runtimeStatus" not in answer.text, (method, url)

    # Bob's job was never touched: it ends as it would have.
    done = wait_done(base, bob_job, bob)
    assert (done["runtime_status"], done["output"]["status"]) == ("Completed", "active")
    twin = requests.get(f"{base}/api/cp/brainstems/{done['cloud_id']}", headers=bob, timeout=10).json()
    assert twin["status"] == "active" and twin["owner"] == "github:bob"
