"""A local Durable Functions runtime: the SDK's real replay code, driven without the Functions host.

Test double and sandbox runtime only; the deployed app never imports it.

- ``driver.OrchestrationDriver`` — host + extension stand-in: history, replays, activities, timers,
  crash/resume, terminate, external events.
- ``replay_check.check_replay_safety`` — crash after every history event, resume, compare.
- ``client_server.DurableClientServer`` — the extension's HTTP API on loopback for the SDK's real
  ``DurableOrchestrationClient``; ``invoke_http_function`` calls a toy app's HTTP functions directly (the
  product's go through Microsoft's worker: ``sandbox.worker``).
- ``clock`` — ``VirtualClock`` (tests: timers fire at once) and ``WallClock`` (sandbox: real, scalable).
"""

from sandbox.durable.client_server import DurableClientServer, client_binding_json, invoke_http_function
from sandbox.durable.clock import Clock, HeldClock, VirtualClock, WallClock
from sandbox.durable.driver import OrchestrationDriver
from sandbox.durable.event_loop import BackgroundLoop, forget_sdk_http_session, reset_sdk_http_session, shared_loop
from sandbox.durable.instance import ActivityExecution, OrchestrationResult
from sandbox.durable.replay_check import ReplaySafetyError, check_replay_safety

__all__ = [
    "ActivityExecution",
    "BackgroundLoop",
    "Clock",
    "DurableClientServer",
    "HeldClock",
    "OrchestrationDriver",
    "OrchestrationResult",
    "ReplaySafetyError",
    "VirtualClock",
    "WallClock",
    "check_replay_safety",
    "client_binding_json",
    "forget_sdk_http_session",
    "invoke_http_function",
    "reset_sdk_http_session",
    "shared_loop",
]
