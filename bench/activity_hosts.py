"""Activities in several worker processes, as on Azure where the platform runs several instances.

Each host is a separate Python process with its own copy of everything in-process (settings, ARM
clients, the per-process budget of old, the fleet budget's leases), started after the rig has put
the control plane's settings in the environment. The Durable driver keeps replaying orchestrations
in the benchmark's process and sends each activity to a host over loopback HTTP, round robin.
Activities run in the host through Microsoft's Python worker, as in the rig.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bench.table_counter import TABLE_KEYS, count_default_registry, table_totals
from sandbox.lifetime import die_with_parent
from sandbox.worker.durable import ActivityFailed


def scaled_clock_from_env() -> Any:
    """The benchmark's compressed clock (BENCH_CLOCK="<origin wall>,<origin real>,<speed>"), epoch seconds."""
    wall, real, speed = (float(part) for part in os.environ["BENCH_CLOCK"].split(","))
    return lambda: wall + (time.time() - real) * speed


def scaled_sleep_from_env() -> Any:
    """Sleep ``seconds`` of the compressed clock."""
    speed = float(os.environ["BENCH_CLOCK"].split(",")[2])
    return lambda seconds: time.sleep(seconds / speed)


class _Handler(BaseHTTPRequestHandler):
    functions: Any = None

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if body.get("stats"):
            from controlplane.arm.write_budget import unbooked
            from controlplane.registry import default_registry

            answer: dict[str, Any] = {
                "budget_operations": default_registry().arm_budget.operations,
                "budget_tokens": default_registry().arm_budget.tokens_booked,
                "unbooked_writes": unbooked.count,
                "cpu_seconds": time.process_time(),
                **table_totals(),
            }
        else:
            try:
                result = self.functions.run_activity(
                    body["name"], body["input"], instance_id=body["instance_id"], client_json=body["client"]
                )
                answer = {"result": result}
            except ActivityFailed as failed:
                answer = {"failed": str(failed), "details": failed.details}
        payload = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve() -> None:
    """``python -m bench.activity_hosts``: one host; prints its port, serves until stdin closes."""
    from controlplane.arm.budgets import set_budget_clock
    from sandbox.worker import app_durable_functions

    set_budget_clock(scaled_clock_from_env(), scaled_sleep_from_env())
    _Handler.functions = app_durable_functions()
    count_default_registry()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], flush=True)
    sys.stdin.read()  # the benchmark closes it to stop us
    server.shutdown()


class PooledFunctions:
    """A ``DurableFunctions``: replays here, activities in ``hosts`` worker processes."""

    def __init__(self, local: Any, hosts: int, clock_spec: str) -> None:
        self.local = local
        env = {**os.environ, "BENCH_CLOCK": clock_spec}
        self._processes = [
            subprocess.Popen(
                [sys.executable, "-m", "bench.activity_hosts"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=env,
                preexec_fn=die_with_parent(),
            )
            for _ in range(hosts)
        ]
        self.ports = [int(process.stdout.readline()) for process in self._processes]  # type: ignore[union-attr]
        self._next = itertools.cycle(range(hosts))
        self._lock = threading.Lock()

    def check_orchestrator(self, name: str) -> None:
        self.local.check_orchestrator(name)

    def replay(self, orchestrator_name: str, context_json: str, *, instance_id: str) -> str:
        result: str = self.local.replay(orchestrator_name, context_json, instance_id=instance_id)
        return result

    def run_activity(
        self, activity_name: str, input_text: str | None, *, instance_id: str, client_json: str | None
    ) -> str:
        with self._lock:
            port = self.ports[next(self._next)]
        body = {"name": activity_name, "input": input_text, "instance_id": instance_id, "client": client_json}
        answer = self._post(port, body)
        if "failed" in answer:
            raise ActivityFailed(answer["failed"], answer["details"])
        return str(answer["result"])

    def stats(self) -> dict[str, float]:
        """Every host's budget storage operations and CPU seconds, summed."""
        with ThreadPoolExecutor(len(self.ports)) as pool:
            answers = list(pool.map(lambda port: self._post(port, {"stats": True}), self.ports))
        return {
            key: sum(answer[key] for answer in answers)
            for key in ("budget_operations", "budget_tokens", "unbooked_writes", "cpu_seconds", *TABLE_KEYS)
        }

    @staticmethod
    def _post(port: int, body: dict[str, Any]) -> dict[str, Any]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=3600)
        try:
            connection.request("POST", "/", json.dumps(body), {"Content-Type": "application/json"})
            answer: dict[str, Any] = json.loads(connection.getresponse().read())
            return answer
        finally:
            connection.close()

    def close(self) -> None:
        for process in self._processes:
            process.stdin.close()  # type: ignore[union-attr]
        for process in self._processes:
            process.wait(30)


if __name__ == "__main__":
    serve()
