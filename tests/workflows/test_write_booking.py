"""An orchestration books in the fleet's ARM budget exactly the writes its activities send.

A step that sends more than it booked pays for the rest inside the activity, from a queue that may
be minutes deep on a busy subscription: it waits holding an instance, or fails and retries at the
back of the queue. One that books more leaves tokens unspent: ARM's bucket idles. Either costs
throughput (issue 18), so the booking must be exact for every hosting kind and every operation.
"""

from __future__ import annotations

from sandbox.rig import ControlPlaneRig
from tests.workflows.booking import NothingUnbooked, booked_writes, sent_writes
from tests.workflows.twin_jobs import provision, update

KODY = "twin-kody-e89834"


def test_a_consumption_create_books_each_write_it_sends(rig: ControlPlaneRig) -> None:
    with NothingUnbooked():
        result = provision(rig, "kody")
    assert result.status == "Completed", result.error
    sent = sent_writes(rig)
    # Names 2, group 2 (its CanNotDelete lock too), account 1, the app 4 (its settings read first, a 404 ARM still counts), and
    # config-zip's publish 4 (the key for the SAS, the settings read and written, the trigger sync).
    assert len(sent) == 13, sent
    assert booked_writes(result) == len(sent)


def test_an_update_books_each_write_it_sends(rig: ControlPlaneRig) -> None:
    assert provision(rig, "kody").status == "Completed"
    before = len(rig.arm.requests)
    with NothingUnbooked():
        result = update(rig, KODY, "v2")
    assert result.status == "Completed", result.error
    assert booked_writes(result) == len(sent_writes(rig, before)) == 7
