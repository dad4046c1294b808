"""A slow Table Storage request in one async route never holds up the instance's other requests.

The worker runs every async function of an instance on one event loop (sandbox/durable: the shared
loop). A synchronous Table call made on that loop would stall every other async request until it
returned; the routes run registry work on worker threads instead.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait

import azure.functions as func
import pytest

from controlplane.domain.naming import twin_names
from sandbox.rig import ControlPlaneRig, reset_control_plane_caches
from tests.security.slow_proxy import SlowProxy

HEALTH_CALLS = 20


@pytest.fixture
def slow_rig(
    storage_connection: str, table_name: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[ControlPlaneRig, SlowProxy]]:
    table_port = int(re.search(r"TableEndpoint=http://127\.0\.0\.1:(\d+)/", storage_connection).group(1))  # type: ignore[union-attr]
    proxy = SlowProxy(table_port).start()
    connection = storage_connection.replace(f"127.0.0.1:{table_port}/", f"127.0.0.1:{proxy.port}/")
    rig = ControlPlaneRig(connection, table_name=table_name)
    environ: dict[str, str] = {}
    rig.start(environ)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    reset_control_plane_caches()
    try:
        yield rig, proxy
    finally:
        proxy.close()
        rig.stop()
        reset_control_plane_caches()


def call(rig: ControlPlaneRig, function: str, path: str, **route_params: str) -> func.HttpResponse:
    request = func.HttpRequest(
        "GET",
        f"http://127.0.0.1/api/cp/{path}",
        headers={"x-api-key": rig.operator_key},
        route_params=route_params,
        body=b"",
    )
    return rig.call(function, request)


def test_twenty_health_calls_answer_while_one_table_request_hangs(slow_rig: tuple[ControlPlaneRig, SlowProxy]) -> None:
    rig, proxy = slow_rig
    assert call(rig, "health", "health").status_code == 200  # connections warm
    slow_id = twin_names("slow").cloud_id
    proxy.hold(slow_id.encode())
    slow_answer: list[func.HttpResponse] = []
    slow = threading.Thread(
        target=lambda: slow_answer.append(call(rig, "get_brainstem", f"brainstems/{slow_id}", id=slow_id))
    )
    slow.start()
    assert proxy.holding.wait(30), "the slow request never reached Table Storage"

    with ThreadPoolExecutor(HEALTH_CALLS) as pool:
        healths = [pool.submit(call, rig, "health", "health") for _ in range(HEALTH_CALLS)]
        done, pending = wait(healths, timeout=60)
        # All twenty answered while the slow request is still held (not after it was let go).
        assert not pending and proxy.holding.is_set() and not proxy.released.is_set() and slow.is_alive()
        assert [f.result().status_code for f in done] == [200] * HEALTH_CALLS
    proxy.release()
    slow.join(30)
    assert slow_answer and slow_answer[0].status_code == 404  # it did get its (late) answer
