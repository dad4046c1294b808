"""Table Storage stopped for at least 10 s in the middle of 20 concurrent creates (issue 15, faults).

Every create answers 202 with a row and a job, or a 503 problem; after the next reconcile no place is
held by nobody, no row lacks a job, and the counts match the rows. The registry reaches Azurite
through a Door (sandbox/outage.py) that refuses connections while shut, as a stopped Azurite does.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from controlplane.domain.lifecycle import BUSY_STATUSES, LIVE_STATUSES, Status
from controlplane.registry import default_registry, iter_all
from controlplane.registry.fleet_counts import count_keys
from sandbox.outage import Door
from sandbox.rig import ControlPlaneRig, reset_control_plane_caches
from tests.api.conftest import Answer, Api
from tests.reconcile.conftest import reconcile

OUTAGE_SECONDS = 10


@pytest.fixture
def door(storage_connection: str) -> Iterator[Door]:
    port = int(re.search(r"TableEndpoint=http://127\.0\.0\.1:(\d+)/", storage_connection).group(1))  # type: ignore[union-attr]
    opened = Door(port).open()
    yield opened
    opened.shut()


def test_creates_during_a_storage_outage_answer_202_or_503_and_the_reconcile_leaves_it_whole(
    storage_connection: str, table_name: str, door: Door, monkeypatch: pytest.MonkeyPatch
) -> None:
    through_door = re.sub(
        r"TableEndpoint=http://127\.0\.0\.1:\d+/", f"TableEndpoint=http://127.0.0.1:{door.port}/", storage_connection
    )
    environ: dict[str, str] = {}
    # Judge lost jobs at once: every job this test started has ended before the reconcile runs.
    settings = {"CP_OWNER_QUOTA": "0", "CP_RECONCILE_GRACE_SECONDS": "0", "CP_RECONCILE_LOST_JOB_SECONDS": "0"}
    rig = ControlPlaneRig(through_door, table_name=table_name, settings=settings).start(environ)
    try:
        for key, value in environ.items():
            monkeypatch.setenv(key, value)
        reset_control_plane_caches()
        api = Api(rig)
        answered: list[Answer] = []
        some_done, some_refused = threading.Event(), threading.Event()

        def create(i: int) -> Answer:
            answer = api.post({"name": f"o{i:02d}", "owner": "github:ops"})
            answered.append(answer)
            if len(answered) >= 4:
                some_done.set()
            if answer.status == 503:
                some_refused.set()
            return answer

        with ThreadPoolExecutor(20) as pool:
            first = [pool.submit(create, i) for i in range(10)]
            assert some_done.wait(60)
            door.shut()  # Azurite "stops" with creates in flight...
            rest = [pool.submit(create, i) for i in range(10, 20)]  # ...and more arrive while it is down
            time.sleep(OUTAGE_SECONDS)
            # At least 10 s, and until a create has given up: how long the storage clients' retries
            # take depends on the machine's load, and an outage they all outlast tests nothing.
            assert some_refused.wait(120), "no create gave up while the storage was unreachable"
            door.open()
            answers = [f.result() for f in first + rest]

        statuses = sorted({a.status for a in answers})
        assert set(statuses) <= {202, 503} and 503 in statuses and 202 in statuses, statuses
        for answer in answers:
            if answer.status == 503:
                assert answer.json["type"].endswith("dependency-unavailable") and answer.headers["retry-after"]
        assert rig.driver is not None
        accepted = [a.json for a in answers if a.status == 202]
        for job in accepted:  # every 202 has a row and a job
            assert default_registry().exists(job["cloud_id"])
            rig.driver.wait(job["job_id"], timeout=120)

        reconcile(rig)

        registry = default_registry()
        rows = list(iter_all(registry))
        known = {job["job_id"] for job in accepted}
        for row in rows:  # no row waits for a job that does not run: busy rows are gone, jobless rows errored
            assert row.status not in BUSY_STATUSES, row
            if row.job_id not in known:  # its create answered 503 after the row landed: no job ever started
                assert row.status == Status.ERRORED and (row.error or {}).get("code") == "JobLost", row
        holders: dict[str, set[str]] = {}
        for row in rows:
            if row.status in LIVE_STATUSES:
                for key in row.slots:
                    holders.setdefault(key, set()).add(row.cloud_id)
        for key in registry.capacity.all_keys():  # no place is held by nobody
            assert registry.capacity.members(key) == holders.get(key, set()), key
        counted: dict[str, int] = {}
        for row in rows:
            for key in count_keys(row):
                counted[key] = counted.get(key, 0) + 1
        totals = registry.fleet_counts.raw_totals()
        assert {k: v for k, v in totals.items() if v} == counted  # counts match rows
    finally:
        rig.stop()
        reset_control_plane_caches()
