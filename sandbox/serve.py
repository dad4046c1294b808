"""`make run` without Core Tools: the whole control plane, offline, at http://127.0.0.1:7071/api/cp.

One process tree: Azurite (a child process), the ARM stand-in over HTTPS, a loopback host for each
brainstem's URL, the Durable host stand-in running orchestrations in the background on real
(wall-clock) time, and the Functions front door serving the unmodified function_app. Provisioning
steps take a realistic but short time (CP_SANDBOX_LATENCY_SCALE scales them), so progress shows.
Ctrl-C or SIGTERM stops every part; nothing is left running.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import sys
import time
from pathlib import Path

from controlplane.auth import hash_api_key
from sandbox.arm import ArmStandIn
from sandbox.azurite import start_azurite
from sandbox.durable import WallClock
from sandbox.events import EventReceiver, ReceivedEvent
from sandbox.front_door import FrontDoor, http_routes
from sandbox.rig import ControlPlaneRig
from sandbox.worker import app_worker

# Seconds each ARM step takes in the sandbox (before CP_SANDBOX_LATENCY_SCALE): a real provision takes
# one to two minutes; these keep the same shape in a few seconds.
STEP_LATENCY = {
    "resource_groups.create_or_update": 0.5,
    "storage_accounts.create": 2.0,
    "server_farms.create_or_update": 0.8,
    "sites.create_or_update": 1.5,
    "resource_groups.delete": 2.0,
}
SANDBOX_SETTINGS = {
    "CP_READINESS_PROBE_INTERVAL_SECONDS": "1",
    "CP_READINESS_TIMEOUT_SECONDS": "60",
    "CP_TEARDOWN_POLL_INTERVAL_SECONDS": "1",
    "CP_ACTIVITY_FIRST_RETRY_SECONDS": "1",
}


def user_auth_setting() -> str | None:
    """The person's own CP_AUTH: the environment, else local.settings.json's Values (as Core Tools reads it)."""
    if os.environ.get("CP_AUTH"):
        return os.environ["CP_AUTH"]
    local = Path(__file__).resolve().parent.parent / "local.settings.json"
    if local.exists():
        value = json.loads(local.read_text()).get("Values", {}).get("CP_AUTH")
        return str(value) if value else None
    return None


def sandbox_auth(user_setting: str | None, key: str) -> str:
    """The user's CP_AUTH (their issuers, keys, App Service auth) plus the sandbox's printed operator key."""
    try:
        config = json.loads(user_setting) if user_setting else {}
    except json.JSONDecodeError:
        raise ValueError("CP_AUTH is not valid JSON (see README, Authentication)") from None
    if not isinstance(config, dict):
        raise ValueError("CP_AUTH must be a JSON object (see README, Authentication)")
    hashes = [*config.get("operator_key_hashes", []), hash_api_key(key)]
    return json.dumps({**config, "operator_key_hashes": hashes})


def banner(base: str, key: str, events: EventReceiver) -> str:
    auth = f"-H 'x-api-key: {key}'"
    return "\n".join(
        [
            f"ready: Twin Stack control plane (offline sandbox) at {base}/api/cp",
            f"operator API key for this run: {key}",
            f"dashboard: {base}/api/cp/dashboard (sign in with the key above; it stays in that tab only)",
            "try:",
            f"  curl -s -X POST {base}/api/cp/brainstems {auth} -H 'Content-Type: application/json' "
            '-d \'{"name": "kody", "owner": "github:you"}\'',
            f"  curl -s {base}/api/cp/brainstems/twin-kody-e89834 {auth}",
            f"  curl -s {base}/api/cp/health {auth}",
            f"or the CLI: TWINCTL_KEY={key} .venv/bin/twinctl --url {base} create kody --owner github:you --wait",
            f"events: every transition goes to the Event Grid topic stand-in ({events.topic_endpoint}) and is printed",
            f'  here; add a signed webhook with "callback_url": "{events.hook_url("you")}" (or --callback-url);',
            f"  watch them: .venv/bin/twinctl events --follow --feed {events.feed_url}",
            "Ctrl-C stops everything.",
        ]
    )


def print_event(received: ReceivedEvent) -> None:
    event = received.event
    data = event.get("data") or {}
    detail = data.get("url") or (data.get("error") or {}).get("code") or ""
    kind = str(event.get("type", "")).removeprefix("dev.twinstack.brainstem.")
    print(
        f"event: {kind} {event.get('subject')} {detail} (id {event.get('id')}, via {received.via})".rstrip(), flush=True
    )


async def serve(front: FrontDoor, key: str, events: EventReceiver, started: float) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await front.start()
    print(banner(front.base_url, key, events), flush=True)
    print(f"(ready in {time.monotonic() - started:.1f}s)", flush=True)
    try:
        await stop.wait()
    finally:
        await front.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.serve", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "7071")))
    parser.add_argument("--events-port", type=int, default=int(os.environ.get("EVENTS_PORT", "0")) or None)
    parser.add_argument("--latency-scale", type=float, default=float(os.environ.get("CP_SANDBOX_LATENCY_SCALE", "1")))
    args = parser.parse_args(argv)
    started = time.monotonic()

    key = os.environ.get("CP_SANDBOX_OPERATOR_KEY") or secrets.token_urlsafe(24)
    try:
        auth = sandbox_auth(user_auth_setting(), key)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("starting: Azurite, ARM stand-in, Durable host stand-in ...", flush=True)
    azurite = start_azurite()
    events = EventReceiver(feed_port=args.events_port or args.port + 1)  # the feed twinctl events follows
    events.listeners.append(print_event)
    rig = ControlPlaneRig(
        azurite.connection_string,
        operator_key=key,
        arm=ArmStandIn(latency=STEP_LATENCY, latency_scale=args.latency_scale),
        clock=WallClock(),
        settings={
            **SANDBOX_SETTINGS,
            "CP_AUTH": auth,
            # Absolute links in 202s, from configuration as on Azure (never from a request's Host).
            "CP_PUBLIC_BASE_URL": f"http://127.0.0.1:{args.port}",
        },
        serve_packages=True,  # Flex twins fetch their code package from a loopback server
        events=events,
    )
    try:
        rig.start()
        assert rig.brainstems is not None and rig.durable is not None
        rig.brainstems.cold_starts = 1  # a new Consumption app answers 503 once while it boots
        front = FrontDoor(http_routes(app_worker().functions.values()), rig.call, rig.durable.base_url, port=args.port)
        asyncio.run(serve(front, rig.operator_key, events, started))
    except OSError as exc:
        print(
            f"error: cannot serve on port {args.port} or the event feed's {args.events_port or args.port + 1} "
            f"({exc.strerror}); set PORT=... (and EVENTS_PORT=...) to use others",
            file=sys.stderr,
        )
        return 1
    finally:
        rig.stop()
        azurite.stop()
    print("stopped: every part of the sandbox has exited.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
