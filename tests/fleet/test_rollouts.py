"""Rollouts through the real rig: waves, the failure gate and the way back, pause/resume/abort."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import azure.durable_functions as df
import pytest

from controlplane.domain.errors import DependencyUnavailable
from controlplane.domain.lifecycle import Status
from controlplane.domain.rollouts import RolloutSpec, Selector, WavePlan
from controlplane.registry import default_registry, iter_all
from controlplane.service.rollout_batches import collect_outcomes, start_batch, update_job_id
from controlplane.service.rollouts import initial_state
from controlplane.service.updates import claim_for_update
from controlplane.settings import get_settings
from sandbox.arm import Fault
from sandbox.durable import DurableClientServer, OrchestrationDriver, check_replay_safety, shared_loop
from sandbox.rig import ControlPlaneRig, product_driver
from tests.workflows.twin_jobs import provision

NAMES = ["ada", "bob", "cy", "dee", "eve"]


def fleet(rig: ControlPlaneRig, names: list[str] = NAMES) -> None:
    for name in names:
        assert provision(rig, name).status == "Completed"


def start(rig: ControlPlaneRig, *, control: str = "run", **plan: object) -> str:
    spec = RolloutSpec(uuid.uuid4().hex, "v2", Selector(), WavePlan(**plan))  # type: ignore[arg-type]
    registry = default_registry()
    registry.rollouts.create(spec, created_by="test")
    if control != "run":
        registry.rollouts.set_control(spec.rollout_id, control)
    state = initial_state(spec, get_settings())
    assert rig.driver is not None
    rig.driver.start("rollout_brainstems", state, instance_id=spec.rollout_id)
    return spec.rollout_id


def eventually(condition: Callable[[], bool], attempts: int = 600) -> None:
    """Wait for a condition the rollout reaches on its own (a bound on attempts, not a timing assertion)."""
    for _ in range(attempts):
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("the condition never held")


def refs() -> dict[str, str]:
    return {row.name: row.deploy_ref for row in iter_all(default_registry()) if row.status != Status.DELETED}


def test_a_rollout_moves_the_fleet_in_growing_waves(rig: ControlPlaneRig) -> None:
    fleet(rig)
    rollout_id = start(rig, canary=1, growth=2, parallelism=2)
    assert rig.driver is not None
    result = rig.driver.wait(rollout_id, timeout=60)
    assert result.status == "Completed" and result.output["status"] == "completed", result.error
    assert refs() == dict.fromkeys(NAMES, "v2")
    record = default_registry().rollouts.get(rollout_id)
    assert record["status"] == "completed"
    assert [w["succeeded"] for w in record["waves"]] == [1, 2, 2]  # canary, then 2, then what was left
    assert all(row.previous_deploy_ref == "abc123" for row in iter_all(default_registry()))
    # A rollout's twins book in the bulk lanes: the site step (3 writes) before the publish (4) that finishes it.
    bookings = [run.input for run in rig.driver.executions("reserve_arm_writes")]
    assert {(b["lane"], b["count"]) for b in bookings if b["lane"].startswith("bulk")} == {
        ("bulk", 3), ("bulk_finish", 4),
    }  # fmt: skip


def test_a_wave_over_its_threshold_halts_and_moves_its_twins_back(rig: ControlPlaneRig) -> None:
    fleet(rig)
    # The first publish of the rollout fails for good; the canary wave of 2 then has 1 failure of 2.
    rig.arm.inject(Fault(route="sites.create_or_update", kind="error", status=400, code="BadRequest", message="bad"))
    rollout_id = start(rig, canary=2, growth=2, parallelism=2, max_failure_ratio=0.25)
    assert rig.driver is not None
    result = rig.driver.wait(rollout_id, timeout=60)
    assert result.output["status"] == "halted", result.error
    assert refs() == dict.fromkeys(NAMES, "abc123")  # the wave's updated twin went back; no other was touched
    record = default_registry().rollouts.get(rollout_id)
    assert record["waves"][0]["failed"] == 1 and record["waves"][0]["rolled_back"] == 1
    assert len(record["waves"]) == 1
    failures = default_registry().rollouts.failures(rollout_id)
    assert [f["error"]["code"] for f in failures] == ["BadRequest"]


def test_a_paused_rollout_waits_for_resume_and_an_aborted_one_stops(rig: ControlPlaneRig) -> None:
    fleet(rig, NAMES[:3])
    registry = default_registry()
    assert rig.driver is not None
    paused = start(rig, control="pause", canary=1, parallelism=1)
    eventually(lambda: registry.rollouts.get(paused)["status"] == "paused")
    assert refs() == dict.fromkeys(NAMES[:3], "abc123")
    registry.rollouts.set_control(paused, "run")
    rig.driver.raise_event(paused, "control", {"action": "resume"})
    assert rig.driver.wait(paused, timeout=60).output["status"] == "completed"
    assert refs() == dict.fromkeys(NAMES[:3], "v2")


def test_an_aborted_rollout_updates_nothing_more(rig: ControlPlaneRig) -> None:
    fleet(rig, NAMES[:3])
    assert rig.driver is not None
    aborted = start(rig, control="abort")
    assert rig.driver.wait(aborted, timeout=60).output["status"] == "aborted"
    assert refs() == dict.fromkeys(NAMES[:3], "abc123")


def test_a_twin_another_update_holds_is_left_to_that_update(rig: ControlPlaneRig) -> None:
    fleet(rig, NAMES[:3])
    bob = next(row for row in iter_all(default_registry()) if row.name == "bob")
    claim_for_update(bob.cloud_id, "v9", default_registry(), get_settings())
    rollout_id = start(rig, canary=3, parallelism=3)
    assert rig.driver is not None
    assert rig.driver.wait(rollout_id, timeout=60).output["status"] == "completed"
    record = default_registry().rollouts.get(rollout_id)
    # Selection takes active twins only: the twin another job holds is not selected, not updated twice.
    assert record["waves"][0]["selected"] == record["waves"][0]["succeeded"] == 2
    assert default_registry().get(bob.cloud_id).status == Status.UPDATING  # still the other job's


def test_a_rollout_history_stays_the_same_size_whatever_the_fleet(make_rig: Callable[..., ControlPlaneRig]) -> None:
    largest = {}
    for size in (2, 8):
        rig = make_rig()  # same table: the first fleet is on v2 by then, so it is not selected again
        names = [f"h{size}x{i}" for i in range(size)]
        fleet(rig, names)
        rollout_id = start(rig, canary=2, growth=1, parallelism=2)
        assert rig.driver is not None
        result = rig.driver.wait(rollout_id, timeout=60)
        assert result.output["status"] == "completed"
        largest[size] = result.largest_history
    # Four times the twins, four times the executions, but every execution is one look: the control
    # read, the outcomes, a batch start, a status write and a timer (about 4 events each, with the
    # episode markers), whatever the fleet.
    bound = 4 * 6 + 6
    assert largest[2] <= bound and largest[8] <= bound, largest


def world_as_now(spec: RolloutSpec) -> Callable[[], None]:
    """Put every twin's row back as it is now and start the rollout's record afresh (before each replay run)."""
    registry = default_registry()
    rows = {row.cloud_id: row for row in iter_all(registry)}

    def same_world() -> None:
        for cloud_id, row in rows.items():
            registry.update(cloud_id, lambda _current, row=row: row)
        table = registry.rollouts._table
        # The twins' entities and their look copies (controlplane.registry.rollout_looks): all of the rollout's keys.
        mine = f"PartitionKey ge 'rollout|{spec.rollout_id}' and PartitionKey lt 'rollout|{spec.rollout_id}}}'"
        for entity in list(table.query_entities(mine)):
            table.delete_entity(entity["PartitionKey"], entity["RowKey"])
        table.delete_entity("rollout", spec.rollout_id)
        registry.rollouts.create(spec, created_by="test")

    return same_world


class _DriverWithClient:
    """A fresh Durable host: the driver plus the client endpoint its activities start update jobs through."""

    def __init__(self) -> None:
        self.driver = product_driver()
        self.client = DurableClientServer(self.driver, task_hub="TwinStackControlPlane").start()

    def __enter__(self) -> OrchestrationDriver:
        return self.driver

    def __exit__(self, *exc_info: object) -> None:
        self.client.close()
        self.driver.close()


def test_a_rollout_resumes_to_the_same_end_after_a_crash_at_any_event(rig: ControlPlaneRig) -> None:
    names = ["cra", "crb"]
    fleet(rig, names)
    registry = default_registry()
    spec = RolloutSpec(uuid.uuid4().hex, "v2", Selector(), WavePlan(canary=1, growth=1, parallelism=1))
    state = initial_state(spec, get_settings())
    same_world = world_as_now(spec)

    cases = check_replay_safety(
        _DriverWithClient,
        "rollout_brainstems",
        state,
        instance_id=spec.rollout_id,
        before_each_run=same_world,
        compare=lambda result: (result.status, result.output["status"] if result.output else None),
        timeout=60,
        require_clean_calls=False,
        polls=frozenset({"collect_rollout_outcomes", "rollout_control"}),
    )
    assert len(cases) >= 10
    assert refs() == dict.fromkeys(names, "v2")
    assert [w["succeeded"] for w in registry.rollouts.get(spec.rollout_id)["waves"]] == [1, 1]


class _StartFailsOnce:
    """The real Durable client, except that starting one named job fails once, as when the extension's
    HTTP API answers 5xx: a fault in the dependency, not a stand-in for our code."""

    def __init__(self, client: df.DurableOrchestrationClient, job_id: str) -> None:
        self.client, self.job_id, self.failed = client, job_id, False

    async def start_new(self, name: str, instance_id: str, payload: object) -> str:
        if instance_id == self.job_id and not self.failed:
            self.failed = True
            raise Exception(f"Unexpected status code 500 starting {instance_id}")  # what the SDK raises
        return await self.client.start_new(name, instance_id, payload)

    async def get_status(self, instance_id: str) -> object:
        return await self.client.get_status(instance_id)


def test_a_batch_that_fails_for_one_twin_lets_the_others_start_and_the_next_look_starts_it(
    rig: ControlPlaneRig,
) -> None:
    fleet(rig, NAMES[:4])
    registry, settings = default_registry(), get_settings()
    spec = RolloutSpec(uuid.uuid4().hex, "v2", Selector(), WavePlan(canary=4, parallelism=4))
    registry.rollouts.create(spec, created_by="test")
    twins = sorted(row.cloud_id for row in iter_all(registry))
    jobs = [update_job_id(spec.rollout_id, 0, cloud_id) for cloud_id in twins]
    assert rig.durable is not None and rig.driver is not None
    client = _StartFailsOnce(df.DurableOrchestrationClient(rig.durable.client_binding_json()), jobs[2])

    # The SDK's bare Exception comes out named (controlplane.workflows.durable_calls), the extension's words kept.
    with pytest.raises(DependencyUnavailable) as failed:
        shared_loop().run(start_batch(spec, 0, 0, None, 4, registry, client, settings))  # type: ignore[arg-type]
    assert "500" in str(failed.value.__cause__)
    # Raised only once every other twin's attempt had ended: all four claimed, the other three started.
    assert len(registry.rollouts.batch_twins(spec.rollout_id, 0, 0)) == 4
    assert [rig.driver.wait(job, timeout=60).status for job in jobs[:2] + jobs[3:]] == ["Completed"] * 3

    # The repeated batch takes the same four twins and starts nothing twice; the next look finds the
    # claimed twin whose job Durable does not know, and starts it.
    assert shared_loop().run(start_batch(spec, 0, 0, None, 4, registry, client, settings))["started"] == 4  # type: ignore[arg-type]
    shared_loop().run(collect_outcomes(spec, 0, registry, client, settings))  # type: ignore[arg-type]
    assert rig.driver.wait(jobs[2], timeout=60).status == "Completed"
    assert set(refs().values()) == {"v2"}
