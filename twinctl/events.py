"""``twinctl events``: watch lifecycle events as they arrive, from the offline sandbox's receiver.

On Azure, events go to the Event Grid topic and whatever subscribes to it (README, Events); the
sandbox keeps every event its topic stand-in and webhook receiver accept and serves them as a feed
(``GET /events?after=N&wait=S``, sandbox/events/receiver.py), which this command follows.
"""

from __future__ import annotations

import json
from typing import Any

import click
import requests

from twinctl.errors import UnexpectedResponse, Unreachable

DEFAULT_FEED = "http://127.0.0.1:7072/events"  # make run: PORT + 1
LONG_POLL_SECONDS = 20.0


def _line(item: dict[str, Any]) -> str:
    event = item["event"]
    data = event.get("data") or {}
    detail = data.get("url") or (data.get("error") or {}).get("code") or ""
    kind = str(event.get("type", "")).removeprefix("dev.twinstack.brainstem.")
    head = f"{event.get('time', '-')}  {kind:<9} {event.get('subject', '-')}"
    return "  ".join(part for part in (head, detail, f"(via {item['via']})") if part)


def _fetch(session: requests.Session, feed: str, after: int, wait: float) -> dict[str, Any]:
    try:
        response = session.get(feed, params={"after": after, "wait": wait}, timeout=wait + 10)
    except requests.RequestException as exc:
        raise Unreachable(f"cannot reach the event feed at {feed} ({type(exc).__name__}); is `make run` up?") from None
    if response.status_code != 200:
        raise UnexpectedResponse(f"the event feed at {feed} answered {response.status_code}")
    body: dict[str, Any] = response.json()
    return body


@click.command(name="events")
@click.option("--feed", envvar="TWINCTL_EVENTS_URL", default=DEFAULT_FEED, show_default=True,
              help="The sandbox's event feed (printed by make run).")  # fmt: skip
@click.option("--follow", "-f", is_flag=True, help="Keep watching until Ctrl-C.")
@click.option("--json", "as_json", is_flag=True, help="One CloudEvent JSON object per line.")
def events_command(feed: str, follow: bool, as_json: bool) -> None:
    """Print the lifecycle events the sandbox has received: time, transition, cloud_id, URL or error."""
    session = requests.Session()
    after = 0
    try:
        while True:
            page = _fetch(session, feed, after, LONG_POLL_SECONDS if follow else 0.0)
            for item in page.get("events", []):
                click.echo(json.dumps(item["event"], separators=(",", ":")) if as_json else _line(item))
            after = int(page.get("next", after))
            if not follow:
                return
    except KeyboardInterrupt:
        return  # Ctrl-C is how a follow ends
