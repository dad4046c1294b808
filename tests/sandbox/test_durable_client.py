"""The SDK's real DurableOrchestrationClient, talking to the loopback stand-in of the extension's HTTP API."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import azure.durable_functions as df
import azure.functions as func
import pytest

from sandbox.durable.client_server import DurableClientServer, invoke_http_function
from sandbox.durable.driver import OrchestrationDriver
from sandbox.durable.event_loop import forget_sdk_http_session, reset_sdk_http_session, shared_loop
from tests.sandbox.test_durable_driver import TOY_FUNCTIONS, flaky_calls

starter_app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@starter_app.route(route="orchestrators/{name}", methods=["POST"])
@starter_app.durable_client_input(client_name="client")
async def http_start(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    body = req.get_body()
    instance_id = await client.start_new(
        req.route_params["name"], req.params.get("instance_id"), json.loads(body) if body else None
    )
    return client.create_check_status_response(req, instance_id)


@starter_app.route(route="ping", methods=["GET"])
def ping(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(f"pong {req.params.get('who')}")


STARTER_FUNCTIONS = {f.get_function_name(): f for f in starter_app.get_functions()}


@pytest.fixture(scope="module")
def server() -> Iterator[DurableClientServer]:
    with OrchestrationDriver(TOY_FUNCTIONS) as driver, DurableClientServer(driver) as running:
        yield running


@pytest.fixture
def client(server) -> df.DurableOrchestrationClient:
    return df.DurableOrchestrationClient(server.client_binding_json())


def call(coroutine):
    return shared_loop().run(coroutine, timeout=60)  # a liveness bound only


def start_over_http(server: DurableClientServer, name: str, payload, *, instance_id: str | None = None):
    request = func.HttpRequest(
        "POST",
        f"{server.base_url}/api/orchestrators/{name}",
        body=json.dumps(payload).encode(),
        route_params={"name": name},
        params={"instance_id": instance_id} if instance_id else {},
        headers={"Content-Type": "application/json"},
    )
    return invoke_http_function(STARTER_FUNCTIONS["http_start"], request, server.client_binding_json())


async def wait_until_terminal(client, instance_id: str, timeout: float = 60.0):
    return await wait_until(client, instance_id, ("Completed", "Failed", "Terminated"), timeout)


async def wait_until(client, instance_id: str, statuses: tuple[str, ...], timeout: float = 60.0):
    """Poll until the instance is in one of ``statuses``; the timeout only ends a run that is stuck."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        status = await client.get_status(instance_id)
        if status and status.runtime_status.value in statuses:
            return status
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"{instance_id} still {status.runtime_status}")
        await asyncio.sleep(0.01)


def http_get(url: str) -> tuple[int, dict, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback test server
            return response.status, dict(response.headers), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), {}


def test_http_starter_answers_202_with_location_and_management_links(server):
    flaky_calls.clear()
    response = start_over_http(server, "toy", {"n": 1})

    assert response.status_code == 202
    links = json.loads(response.get_body())
    assert response.headers["Location"] == links["statusQueryGetUri"]
    assert response.headers["Retry-After"] == "10"
    assert links["statusQueryGetUri"].startswith(
        f"{server.base_url}/runtime/webhooks/durabletask/instances/{links['id']}?"
    )
    assert "taskHub=TestHubName" in links["statusQueryGetUri"]
    assert {"sendEventPostUri", "terminatePostUri", "purgeHistoryDeleteUri"} <= links.keys()


def test_polling_with_the_real_client_reaches_completed(server, client):
    flaky_calls.clear()
    instance_id = json.loads(start_over_http(server, "toy", {"n": 4}).get_body())["id"]

    status = call(wait_until_terminal(client, instance_id))

    assert status.runtime_status == df.OrchestrationRuntimeStatus.Completed
    assert status.output["doubled"] == 8
    assert status.custom_status == {"step": "done"}
    assert status.input_ == '{"n": 4}'  # as in Azure: the client's JSON text, not a dict
    assert status.name == "toy" and status.created_time is not None


def test_status_uri_answers_202_while_running_and_200_when_done(server, client):
    links = json.loads(start_over_http(server, "waits_for_approval", None).get_body())

    code, headers, body = http_get(links["statusQueryGetUri"])
    assert (code, body["runtimeStatus"] in ("Pending", "Running")) == (202, True)
    assert "Location" in headers and headers["Retry-After"] == "5"

    call(client.raise_event(links["id"], "approval", "yes"))
    call(wait_until_terminal(client, links["id"]))
    code, _, body = http_get(links["statusQueryGetUri"])
    assert (code, body["runtimeStatus"]) == (200, "Completed")


def test_raised_event_data_arrives_json_encoded_twice(server, client):
    instance_id = call(client.start_new("waits_for_approval"))

    call(client.raise_event(instance_id, "approval", {"by": "bob"}))

    status = call(wait_until_terminal(client, instance_id))
    assert status.output == {"approval": '{"by": "bob"}'}  # the SDK's raise_event json.dumps on top of aiohttp's


def test_unknown_instance_is_404(server, client):
    assert not call(client.get_status("no-such-instance"))
    url = f"{server.base_url}/runtime/webhooks/durabletask/instances/no-such-instance"
    assert http_get(f"{url}?code=sandbox-system-key")[0] == 404


def test_the_public_webhooks_answer_only_with_the_system_key(server, client):
    call(client.start_new("waits_for_approval", "keyed"))
    base = f"{server.base_url}/runtime/webhooks/durabletask"
    for url in (f"{base}/instances/keyed", f"{base}/instances", f"{base}/instances/keyed?code=wrong"):
        assert http_get(url)[0] == 401, url  # as the host answers: no status, no listing
    assert http_get(f"{base}/instances/keyed?code=sandbox-system-key")[0] == 202
    call(client.terminate("keyed", "cleanup"))


def test_starting_a_running_instance_id_again_is_a_conflict(server, client):
    call(client.start_new("waits_for_approval", "singleton"))

    with pytest.raises(Exception, match="already exists"):
        call(client.start_new("waits_for_approval", "singleton"))
    call(client.terminate("singleton", "cleanup"))


def test_unknown_orchestrator_is_rejected(client):
    with pytest.raises(Exception, match="doesn't exist"):
        call(client.start_new("no_such_orchestrator"))


def test_terminate_then_purge(server, client):
    instance_id = call(client.start_new("waits_for_approval", None, None))

    call(client.terminate(instance_id, "operator said so"))
    status = call(wait_until_terminal(client, instance_id))
    call(client.terminate(instance_id, "again"))  # 410 Gone: the SDK treats it as done

    assert status.runtime_status == df.OrchestrationRuntimeStatus.Terminated
    assert status.output == "operator said so"
    assert call(client.purge_instance_history(instance_id)).instances_deleted == 1
    assert not call(client.get_status(instance_id))


def test_list_by_status(server, client):
    instance_id = call(client.start_new("waits_for_approval", "listed"))
    # Pending until its first episode runs (as on Azure), which a busy machine can delay: wait for it.
    call(wait_until(client, instance_id, ("Running",)))

    running = call(client.get_status_by(runtime_status=[df.OrchestrationRuntimeStatus.Running]))

    assert instance_id in {status.instance_id for status in running}
    call(client.terminate(instance_id, "cleanup"))


def test_fifty_concurrent_orchestrations_complete(server, client):
    ids = [f"many-{i}" for i in range(50)]
    with ThreadPoolExecutor(10) as pool:
        responses = list(pool.map(lambda i: start_over_http(server, "calls_echo", {"i": i}, instance_id=i), ids))
    assert {r.status_code for r in responses} == {202}

    async def all_done():
        return await asyncio.gather(*(wait_until_terminal(client, i) for i in ids))

    statuses = call(all_done())
    assert [s.output["received"] for s in statuses] == [{"i": i} for i in ids]


def test_sync_http_function_without_a_client_binding(server):
    request = func.HttpRequest("GET", f"{server.base_url}/api/ping", body=b"", params={"who": "me"})

    assert invoke_http_function(STARTER_FUNCTIONS["ping"], request, None).get_body() == b"pong me"


def test_sdk_session_can_be_reset_between_event_loops(server, client):
    instance_id = call(client.start_new("calls_echo", None, 1))
    call(reset_sdk_http_session())  # the shared loop's session must not leak into asyncio.run's loops

    async def status_then_reset():
        status = await client.get_status(instance_id)
        await reset_sdk_http_session()
        return status

    try:
        assert asyncio.run(status_then_reset()).instance_id == instance_id
        assert asyncio.run(status_then_reset()).instance_id == instance_id
    finally:
        forget_sdk_http_session()


# ---- each client call on an ended or unknown instance, as the extension answers it ----------------------


def test_client_calls_on_ended_and_unknown_instances_answer_as_the_extension_does(server, client):
    """HttpApiHandler.cs: raise event 404 unknown / 410 ended; terminate 404 / 410; status 404 -> runtime None.
    The product's wrappers (controlplane.workflows.durable_calls) name each one."""
    from controlplane.workflows import durable_calls

    ended = call(client.start_new("waits_for_approval"))
    call(client.terminate(ended, "ended"))
    call(wait_until_terminal(client, ended))

    with pytest.raises(durable_calls.InstanceEnded):
        call(durable_calls.raise_event(client, ended, "approval", {"by": "bob"}))
    with pytest.raises(durable_calls.InstanceNotFound):
        call(durable_calls.raise_event(client, "never-was", "approval", None))
    call(durable_calls.terminate(client, ended, "again"))  # 410: already ended, nothing to do
    with pytest.raises(durable_calls.InstanceNotFound):
        call(durable_calls.terminate(client, "never-was", "why"))
    assert call(durable_calls.get_status(client, "never-was")).runtime_status is None
    call(durable_calls.start_new(client, "waits_for_approval", "twice", None))
    call(durable_calls.start_new(client, "waits_for_approval", "twice", None))  # underway: counts as started
    call(client.terminate("twice", "cleanup"))


def test_an_event_for_an_ended_instance_is_gone_whatever_its_content_type(server):
    """The extension checks the instance before the body: 410 comes before the 400 for a wrong type."""
    instance_id = f"gone-{id(server)}"
    server.driver.start_wire("waits_for_approval", None, instance_id=instance_id)
    server.driver.terminate(instance_id, "ended")
    server.driver.wait(instance_id)
    url = f"{server.rpc_base_url}instances/{instance_id}/raiseEvent/approval"
    request = urllib.request.Request(url, data=b"not json", headers={"Content-Type": "text/plain"}, method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)  # noqa: S310 - loopback test server
    assert refused.value.code == 410
    missing = urllib.request.Request(
        f"{server.rpc_base_url}instances/never-was/raiseEvent/approval", data=b"x", method="POST",
        headers={"Content-Type": "text/plain"},
    )  # fmt: skip
    with pytest.raises(urllib.error.HTTPError) as unknown:
        urllib.request.urlopen(missing, timeout=5)  # noqa: S310
    assert unknown.value.code == 404
