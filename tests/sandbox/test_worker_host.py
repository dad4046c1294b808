"""The host emulator: the messages it sends Microsoft's Python worker and its reading of the answers."""

from __future__ import annotations

import json

import azure.functions as func
import pytest
from azure.functions import meta
from azure.functions.durable_functions import ActivityTriggerConverter

from controlplane.domain.durable_names import Activity, Orchestration
from sandbox.rig import ControlPlaneRig
from sandbox.worker import app_worker
from sandbox.worker.durable import activity_input_string, friendly_message, out_of_proc_state
from sandbox.worker.http import from_invocation_response, to_rpc_http


@pytest.fixture
def protos():  # type: ignore[no-untyped-def]
    return app_worker().protos


def test_an_http_request_is_shaped_as_the_host_shapes_it(protos) -> None:  # type: ignore[no-untyped-def]
    request = func.HttpRequest(
        "GET",
        "http://127.0.0.1:7071/api/cp/brainstems/twin-kody-e89834?expand=&limit=5",
        headers={"X-Api-Key": "k", "Accept": "application/json"},
        params={"expand": "", "limit": "5"},
        route_params={"id": "twin-kody-e89834"},
        body=b"",
    )
    http = to_rpc_http(protos, request).http
    assert dict(http.headers) == {"x-api-key": "k", "accept": "application/json"}  # names lower-cased
    assert dict(http.query) == {"limit": "5"}  # empty values are not sent
    assert dict(http.params) == {"id": "twin-kody-e89834"}
    assert not http.HasField("body")  # no ContentLength, no body
    assert http.url.endswith("?expand=&limit=5") and http.method == "GET"
    posted = to_rpc_http(protos, func.HttpRequest("POST", "http://h/api/x", body=b'{"a": 1}'))
    assert posted.http.body.WhichOneof("data") == "bytes"  # RawHttpBodyBytes: the bytes, never parsed


def test_a_failed_http_invocation_is_a_bare_500(protos) -> None:  # type: ignore[no-untyped-def]
    failed = protos.InvocationResponse(
        result=protos.StatusResult(
            status=protos.StatusResult.Failure, exception=protos.RpcException(message="ValueError: boom")
        )
    )
    answer = from_invocation_response(protos, failed)
    assert (answer.status_code, answer.get_body()) == (500, b"")


def test_activity_inputs_arrive_as_the_extension_sends_them_to_python() -> None:
    # DurableActivityContext.GetInput(string): JValues through ToObject<string>, the rest as compact JSON.
    assert activity_input_string(json.dumps({"job": {"name": "kody"}})) == '{"job":{"name":"kody"}}'
    assert activity_input_string('"twin-kody"') == "twin-kody"  # a string arrives unquoted
    assert activity_input_string("true") == "True"
    assert activity_input_string("7") == "7"
    assert activity_input_string("null") is None
    # ...and the worker's converter parses a string as JSON first: an unquoted id can turn into a number.
    decoded = ActivityTriggerConverter.decode(meta.Datum(type="string", value="1e3"), trigger_metadata=None)
    assert decoded == 1000.0


def test_the_orchestrator_state_is_read_from_the_hosts_exception_message() -> None:
    state = {"isDone": True, "actions": [], "error": "kaboom"}
    host_message = f"Result: Failure\nException: Exception: kaboom\n\n$OutOfProcData$:{json.dumps(state)}\nStack: at x"
    assert json.loads(out_of_proc_state(host_message) or "") == state
    assert friendly_message(host_message) == " Exception: kaboom"
    plain = "Result: Failure\nException: ValueError: no\nStack: at y"
    assert out_of_proc_state(plain) is None and friendly_message(plain) == " ValueError: no"


def test_a_failed_activity_reaches_the_orchestrator_with_the_extensions_reason(rig: ControlPlaneRig) -> None:
    assert rig.driver is not None
    with pytest.raises(Exception) as failure:
        rig.driver.functions.run_activity(
            Activity.MARK_ACTIVE, json.dumps({"not": "a job"}), instance_id="i", client_json=None
        )
    reason = str(failure.value)
    assert reason.startswith("Activity function 'mark_active' failed:  ")  # TaskActivityShim + host message
    assert "Stack:" not in reason and "Traceback" not in reason


def test_a_job_id_that_reads_as_a_number_still_finds_its_job(rig: ControlPlaneRig) -> None:
    assert rig.driver is not None and rig.durable is not None
    instance_id = "1e3"  # the worker would hand a bare "1e3" to the activity as 1000.0
    rig.driver.start(Orchestration.PROVISION, {"not": "a job"}, instance_id=instance_id)
    finished = rig.driver.wait(instance_id)
    status = rig.driver.functions.run_activity(
        Activity.JOB_RUNTIME_STATUS,
        json.dumps({"job_id": instance_id}),  # what teardown_brainstem schedules
        instance_id="teardown",
        client_json=rig.durable.client_binding_json(),
    )
    assert json.loads(status) == finished.status != "NotFound"


def test_the_hourly_timer_reconciles_the_registry_through_the_worker(rig: ControlPlaneRig) -> None:
    from controlplane.registry import default_registry

    registry = default_registry()
    registry.capacity.take("place:s:eastus2", "twin-ghost-000000", 10)  # a create that died before its row
    assert registry.slot_usage("place:s:eastus2") == 1
    rig.fire_timer("reconcile_registry")  # TimerInfo JSON in, as the host sends it
    # The timer starts the reconcile workflow (a singleton); its repair gives the place back.
    assert rig.driver is not None
    result = rig.driver.wait("reconcile-fleet", timeout=60)
    assert result.status == "Completed", result
    assert result.output["repair"]["slots_fixed"] == 1
    assert registry.capacity.members("place:s:eastus2") == set()
