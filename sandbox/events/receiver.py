"""``EventReceiver``: where the sandbox's lifecycle events land, checked as Azure and the spec would.

Two doors on one loopback HTTPS server (a ``trustme`` certificate, like the ARM stand-in's):

- ``POST /api/events?api-version=2018-01-01`` — an Event Grid basic topic. As the data-plane
  contract says (azure-rest-api-specs specification/eventgrid/data-plane/EventGrid/stable/2018-01-01/
  EventGrid.json, PublishCloudEventEvents): a JSON array of CloudEvents sent as
  ``application/cloudevents-batch+json; charset=utf-8``, ``api-version`` required, 200 with no body;
  a bearer token for Event Grid's audience is required (Learn: azure/event-grid/authenticate-with-microsoft-entra-id),
  401 without one or with one for another audience. Each event must pass the CloudEvents 1.0 checks (``cloudevents_check``), else 400.
  Refusals carry the error body Learn documents for a topic (``_topic_error``).
- ``POST /hooks/<name>`` — a webhook receiver, as a twin's owner would run one: the CloudEvents HTTP
  binding's structured mode (``application/cloudevents+json``), a Standard Webhooks signature
  verified with the ``standardwebhooks`` reference library (401 if it does not verify), the event
  checked against the spec (400). ``answers[name]`` scripts statuses (503 = a dead receiver) and
  ``redirects[name]`` a 302, to prove the control plane neither gives up a twin nor follows.

Every accepted event is kept (duplicates too: at-least-once delivery shows here) and served, for
``twinctl events --follow``, as a feed on a plain-HTTP loopback port: ``GET /events?after=N&wait=S``.
"""

from __future__ import annotations

import base64
import json
import secrets
import shutil
import ssl
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from sandbox.arm.messages import Reply
from sandbox.arm.transport import Handler, TlsServer, certificate_authority
from sandbox.events.cloudevents_check import cloudevent_problems
from sandbox.tokens import EVENTGRID_AUDIENCES, bearer_claims

TOPIC_PATH = "/api/events"
BATCH_CONTENT_TYPE = "application/cloudevents-batch+json"
STRUCTURED_CONTENT_TYPE = "application/cloudevents+json"


@dataclass(frozen=True)
class ReceivedEvent:
    seq: int
    via: str  # "eventgrid" or "callback:<name>"
    received_at: float
    event: dict[str, Any]
    headers: dict[str, str]

    def to_feed(self) -> dict[str, Any]:
        return {"seq": self.seq, "via": self.via, "received_at": self.received_at, "event": self.event}


def _error(status: int, code: str, message: str) -> Reply:
    return Reply(status, {"error": {"code": code, "message": message}})


def _topic_error(status: int, code: str, message: str) -> Reply:
    """A topic's refusal in the shape Learn documents for it ("Publish events to Azure Event Grid custom
    topics using access keys", Response: "For errors, the message body has the following format":
    ``{"error": {"code", "message", "details": [{"code", "message"}]}}``), the code named as Learn's
    "Troubleshoot Azure Event Grid errors" names statuses (``HttpStatusCode.BadRequest``: ``BadRequest``).
    The statuses are Learn's too (same Response table: bad event data 400, a refused credential 401).
    The message texts are ours: no Microsoft source quotes them."""
    return Reply(status, {"error": {"code": code, "message": message, "details": [{"code": code, "message": message}]}})


class EventReceiver:
    def __init__(self, signing_key: str | None = None, *, feed_port: int = 0) -> None:
        # The key callbacks are signed with (a secret: tests check it is never recorded). Fresh per run.
        self.signing_key = signing_key or "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
        self.feed_port = feed_port
        self.listeners: list[Callable[[ReceivedEvent], None]] = []  # told of each event (make run prints them)
        self.answers: dict[str, list[int]] = {}  # hook name -> statuses to answer first, in order
        self.redirects: dict[str, str] = {}  # hook name -> Location of a 302
        self.refused: list[tuple[str, int, str]] = []  # (path, status, why): what was turned away
        self._received: list[ReceivedEvent] = []
        self._changed = threading.Condition()
        self._server: TlsServer | None = None
        self._feed: ThreadingHTTPServer | None = None
        self._directory: Path | None = None

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> EventReceiver:
        authority = certificate_authority()
        self._directory = Path(tempfile.mkdtemp(prefix="event-receiver-"))
        authority.cert_pem.write_to_path(str(self._directory / "ca.pem"))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        authority.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        self._server = TlsServer(("127.0.0.1", 0), Handler, context=context, stand_in=self)  # type: ignore[arg-type]
        self._feed = ThreadingHTTPServer(("127.0.0.1", self.feed_port), _feed_handler(self))
        self._feed.daemon_threads = True
        for server, name in ((self._server, "event-receiver"), (self._feed, "event-feed")):
            threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
            ).start()
        return self

    def stop(self) -> None:
        for server in (self._server, self._feed):
            if server is not None:
                server.shutdown()
                server.server_close()
        if isinstance(self._server, TlsServer):
            self._server.close_connections()
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
        self._server = self._feed = self._directory = None

    def __enter__(self) -> EventReceiver:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() first"
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    @property
    def topic_endpoint(self) -> str:
        return self.base_url + TOPIC_PATH

    def hook_url(self, name: str = "default") -> str:
        return f"{self.base_url}/hooks/{name}"

    @property
    def feed_url(self) -> str:
        assert self._feed is not None, "start() first"
        return f"http://127.0.0.1:{self._feed.server_address[1]}/events"

    @property
    def ca_path(self) -> str:
        assert self._directory is not None, "start() first"
        return str(self._directory / "ca.pem")

    # --- what arrived -----------------------------------------------------------------------------

    def received(self, via: str | None = None) -> list[ReceivedEvent]:
        with self._changed:
            return [r for r in self._received if via is None or r.via == via]

    def events(self, via: str | None = None, *, type: str | None = None) -> list[dict[str, Any]]:  # noqa: A002
        return [r.event for r in self.received(via) if type is None or r.event.get("type") == type]

    def wait_for(self, count: int, *, via: str | None = None, timeout: float = 30.0) -> list[ReceivedEvent]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len([r for r in self._received if via is None or r.via == via]) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(left)
        return self.received(via)

    def feed(self, after: int, wait: float) -> list[dict[str, Any]]:
        deadline = time.monotonic() + max(0.0, min(wait, 30.0))
        with self._changed:
            while not any(r.seq > after for r in self._received) and time.monotonic() < deadline:
                self._changed.wait(deadline - time.monotonic())
            return [r.to_feed() for r in self._received if r.seq > after]

    # --- the HTTPS doors (called by sandbox.arm.transport.Handler) --------------------------------

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        headers = {k.lower(): v for k, v in headers.items()}
        url = urlsplit(path)
        if method != "POST":
            reply = _error(405, "MethodNotAllowed", "only POST")
        elif url.path == TOPIC_PATH:
            reply = self._topic(parse_qs(url.query), headers, body)
        elif url.path.startswith("/hooks/") and url.path.count("/") == 2:
            reply = self._hook(url.path.removeprefix("/hooks/"), headers, body)
        else:
            reply = _error(404, "NotFound", f"nothing at {url.path}")
        if reply.status >= 300:
            why = json.dumps(reply.body) if reply.body else reply.headers.get("Location", "")
            with self._changed:
                self.refused.append((url.path, reply.status, why))
        return reply

    def _topic(self, query: dict[str, list[str]], headers: dict[str, str], body: bytes) -> Reply:
        if not query.get("api-version"):
            return _topic_error(400, "BadRequest", "the api-version query parameter is required")
        claims = bearer_claims(headers.get("authorization"))
        if claims is None or claims.get("aud") not in EVENTGRID_AUDIENCES:
            # Event Grid validates the token and confirms "the audience (the intended recipient of the
            # token) is ... Event Grid (https://eventgrid.azure.net)" (Learn: event-grid/
            # authenticate-with-microsoft-entra-id); a credential it does not accept is 401 Unauthorized
            # (Learn: event-grid/post-to-custom-topic, Response). So a token asked for another service
            # (ARM's, say) is refused like none (sandbox/tokens.py).
            return _topic_error(401, "Unauthorized", "a bearer token for https://eventgrid.azure.net is required")
        if headers.get("content-type", "").split(";")[0].strip().lower() != BATCH_CONTENT_TYPE:
            return _topic_error(400, "BadRequest", f"CloudEvents are published as {BATCH_CONTENT_TYPE}")
        try:
            batch = json.loads(body)
        except ValueError:
            return _topic_error(400, "BadRequest", "the body is not JSON")
        if not isinstance(batch, list) or not batch:
            return _topic_error(400, "BadRequest", "the body must be a non-empty JSON array of events")
        for event in batch:
            if problems := cloudevent_problems(event):
                return _topic_error(400, "BadRequest", "; ".join(problems))
        for event in batch:
            self._keep("eventgrid", event, headers)
        return Reply(200)

    def _hook(self, name: str, headers: dict[str, str], body: bytes) -> Reply:
        with self._changed:
            scripted = self.answers.get(name)
            status = scripted.pop(0) if scripted else None
        if status is not None and status >= 300:
            return _error(status, "Scripted", f"hook {name} answers {status}")
        if name in self.redirects:
            return Reply(302, None, {"Location": self.redirects[name]})
        if headers.get("content-type", "").split(";")[0].strip().lower() != STRUCTURED_CONTENT_TYPE:
            return _error(415, "UnsupportedMediaType", f"send a structured CloudEvent as {STRUCTURED_CONTENT_TYPE}")
        try:
            event = Webhook(self.signing_key).verify(body, headers)
        except WebhookVerificationError as exc:
            return _error(401, "BadSignature", str(exc))
        if problems := cloudevent_problems(event):
            return _error(400, "BadRequest", "; ".join(problems))
        if event.get("id") != headers.get("webhook-id"):
            return _error(400, "BadRequest", "webhook-id must be the event's id")
        self._keep(f"callback:{name}", event, headers)
        return Reply(status or 204)

    def _keep(self, via: str, event: dict[str, Any], headers: dict[str, str]) -> None:
        with self._changed:
            received = ReceivedEvent(len(self._received) + 1, via, time.time(), event, headers)
            self._received.append(received)
            self._changed.notify_all()
        for listener in self.listeners:
            listener(received)


def _feed_handler(receiver: EventReceiver) -> type[BaseHTTPRequestHandler]:
    class FeedHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            if url.path != "/events":
                status, payload = 404, {"error": "GET /events?after=N&wait=S"}
            else:
                try:
                    after = int(query.get("after", ["0"])[0])
                    wait = float(query.get("wait", ["0"])[0])
                except ValueError:
                    status, payload = 400, {"error": "after is an integer, wait a number of seconds"}
                else:
                    items = receiver.feed(after, wait)
                    status, payload = 200, {"events": items, "next": items[-1]["seq"] if items else after}
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

    return FeedHandler
