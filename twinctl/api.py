"""The control plane's REST API as Python calls: one HTTP request each, errors raised, never returned.

Everything that knows about HTTP lives here: the base URL and auth headers, problem+json, the
mapping of "no answer at all" to ``Unreachable``, ``Retry-After``, and the ``next`` continuation of
listings. Commands and the poll loop see plain dicts and exceptions from ``twinctl.errors``.

Method names follow the Azure SDK verbs the rest of the project uses: ``get_`` raises when missing,
``list_`` pages lazily, ``begin_`` starts a long operation and returns its job.
"""

from __future__ import annotations

import email.utils
import logging
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import requests

from twinctl import __version__
from twinctl.errors import ApiError, InvalidArgument, UnexpectedResponse, Unreachable

logger = logging.getLogger(__name__)

DEFAULT_URL = "http://127.0.0.1:7071"
API_PREFIX = "/api/cp"
# The server's own page-size bound (registry.MAX_PAGE_SIZE); asking for more is a 400.
MAX_PAGE_SIZE = 1000
# Connect quickly or report the control plane unreachable; reads may wait on Table Storage and Durable.
DEFAULT_HTTP_TIMEOUT = (5.0, 30.0)

CLOUD_ID = re.compile(r"twin-[a-z0-9]{1,12}-[0-9a-f]{6}")
JOB_ID = re.compile(r"[0-9a-f]{32}")
_WRONG_SERVER_HINT = "is --url a Twin Stack control plane?"


@dataclass(frozen=True)
class Reply:
    """A successful answer's JSON object, and how long the server asked us to wait before asking again."""

    body: dict[str, Any]
    retry_after: float | None = None


def is_cloud_id(value: str) -> bool:
    return CLOUD_ID.fullmatch(value) is not None


def is_job_id(value: str) -> bool:
    return JOB_ID.fullmatch(value) is not None


def require_cloud_id(value: str) -> str:
    if not is_cloud_id(value):
        raise InvalidArgument(f"'{value}' is not a cloud_id (twin-<name>-<hash6>, e.g. twin-kody-e89834)")
    return value


def require_job_id(value: str) -> str:
    if not is_job_id(value):
        raise InvalidArgument(f"'{value}' is not a job_id (32 lowercase hex characters)")
    return value


def require_cloud_id_or_job_id(value: str) -> str:
    if not (is_cloud_id(value) or is_job_id(value)):
        raise InvalidArgument(
            f"'{value}' is neither a cloud_id (twin-<name>-<hash6>) nor a job_id (32 lowercase hex characters)"
        )
    return value


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = (moment - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(seconds, 0.0)


def normalize_base_url(url: str) -> str:
    """Accept the host root or the API root (README shows ``.../api/cp``); we add the prefix ourselves."""
    url = url.strip().rstrip("/")
    if url.endswith(API_PREFIX):
        url = url[: -len(API_PREFIX)]
    if not re.match(r"https?://[^/]", url):
        raise InvalidArgument(f"--url must start with http:// or https:// (got '{url}')")
    return url


class ControlPlaneClient:
    """One control plane, one session (keep-alive across polls), auth headers set once."""

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        *,
        key: str | None = None,
        token: str | None = None,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = DEFAULT_HTTP_TIMEOUT,
    ) -> None:
        self.base_url = normalize_base_url(base_url)
        self.timeout = timeout
        self._session = session or requests.Session()
        self._session.headers["User-Agent"] = f"twinctl/{__version__}"
        self._session.headers["Accept"] = "application/json, application/problem+json"
        # One credential: the control plane refuses a request that carries both (it cannot tell
        # which one the caller meant to act as).
        if key and token:
            raise ValueError("give --key (operator API key) or --token (bearer token), not both")
        if key:
            self._session.headers["x-api-key"] = key
        if token:
            self._session.headers["Authorization"] = f"Bearer {token}"

    # ---- brainstems -------------------------------------------------------------------------------

    def begin_create(
        self,
        name: str,
        *,
        owner: str,
        region: str | None = None,
        runtime_target: str | None = None,
        deploy_ref: str | None = None,
        callback_url: str | None = None,
    ) -> Reply:
        """Start provisioning; the reply carries ``job_id`` and ``cloud_id``. 409 if the twin exists."""
        body: dict[str, str] = {"name": name, "owner": owner}
        optional = {
            "region": region, "runtime_target": runtime_target, "deploy_ref": deploy_ref, "callback_url": callback_url,
        }  # fmt: skip
        body.update({field: value for field, value in optional.items() if value is not None})
        return self._request("POST", "/brainstems", json=body)

    def begin_delete(self, cloud_id: str, *, confirm_bulk: bool = False) -> Reply:
        """Start tearing a brainstem down (after the API's grace period); the reply carries the teardown's ``job_id``."""
        params: dict[str, str | int] | None = {"confirm": "bulk"} if confirm_bulk else None
        return self._request("DELETE", f"/brainstems/{_segment(require_cloud_id(cloud_id))}", params=params)

    def get(self, identifier: str) -> dict[str, Any]:
        """A brainstem row (by cloud_id) or a job (by job_id): the API serves both on one route."""
        return self._request("GET", f"/brainstems/{_segment(require_cloud_id_or_job_id(identifier))}").body

    def get_job(self, job_id: str) -> Reply:
        """A job's status, with ``Retry-After`` kept for the poll loop."""
        reply = self._request("GET", f"/brainstems/{_segment(require_job_id(job_id))}")
        if not isinstance(reply.body.get("runtime_status"), str):
            raise UnexpectedResponse(f"the answer for job {job_id} has no runtime_status; {_WRONG_SERVER_HINT}")
        return reply

    def list_brainstems(
        self, *, owner: str | None = None, status: str | None = None, limit: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """Rows across every page, fetched only as the caller consumes them; at most ``limit`` rows."""
        return self._pages("/brainstems", {"owner": owner, "status": status}, limit, what="listing")

    def _pages(
        self, path: str, filters: dict[str, str | None], limit: int | None, *, what: str
    ) -> Iterator[dict[str, Any]]:
        """Every page of a listing under ``path``, as the caller consumes it; at most ``limit`` items."""
        params: dict[str, str | int] = {k: v for k, v in filters.items() if v}
        remaining, seen_tokens = limit, set()
        while remaining is None or remaining > 0:
            if remaining is not None:
                params["limit"] = min(remaining, MAX_PAGE_SIZE)
            page = self._request("GET", path, params=params).body
            items = page.get("items")
            if not isinstance(items, list):
                raise UnexpectedResponse(f"the {what} has no 'items' array; {_WRONG_SERVER_HINT}")
            yield from items[:remaining]
            if remaining is not None:
                remaining -= min(len(items), remaining)
            token = page.get("next")
            if not token:
                return
            if token in seen_tokens:
                # A server bug must not turn into an endless loop in someone's script.
                raise UnexpectedResponse(f"the {what} returned the same continuation token twice")
            seen_tokens.add(token)
            params["next"] = token

    def get_health(self) -> dict[str, Any]:
        return self._request("GET", "/health").body

    # ---- updates and rollouts ---------------------------------------------------------------------

    def begin_update(self, cloud_id: str, *, deploy_ref: str | None, refresh_settings: bool = False) -> Reply:
        """Move one twin to ``deploy_ref`` (or re-apply the current settings); the reply carries the job."""
        body: dict[str, Any] = {"deploy_ref": deploy_ref} if deploy_ref else {"refresh_settings": refresh_settings}
        return self._request("PATCH", f"/brainstems/{_segment(require_cloud_id(cloud_id))}", json=body)

    def start_rollout(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._request("POST", "/rollouts", json=body).body

    def get_rollout(self, rollout_id: str) -> Reply:
        return self._request("GET", f"/rollouts/{_segment(rollout_id)}")

    def list_rollouts(self) -> list[dict[str, Any]]:
        items = self._request("GET", "/rollouts").body.get("items")
        if not isinstance(items, list):
            raise UnexpectedResponse(f"the rollout listing has no 'items' array; {_WRONG_SERVER_HINT}")
        return items

    def start_adoption(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._request("POST", "/adoptions", json=body).body

    def get_adoption(self, job_id: str) -> Reply:
        return self._request("GET", f"/adoptions/{_segment(job_id)}")

    def control_rollout(self, rollout_id: str, action: str) -> dict[str, Any]:
        return self._request("POST", f"/rollouts/{_segment(rollout_id)}/{_segment(action)}").body

    def put_hold(self, cloud_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._request("PUT", f"/brainstems/{_segment(cloud_id)}/hold", json=body).body

    def lift_hold(self, cloud_id: str) -> dict[str, Any]:
        return self._request("DELETE", f"/brainstems/{_segment(cloud_id)}/hold").body

    # ---- day-two safety: soft delete, audit trail -----------------------------------------------------

    def begin_repair(self, cloud_id: str) -> Reply:
        """Put a drifted twin back as registered (version, settings, tags); the reply carries the job."""
        return self._request("POST", f"/brainstems/{_segment(require_cloud_id(cloud_id))}/repair")

    def restore(self, cloud_id: str) -> dict[str, Any]:
        """Cancel a pending delete; the row as it is now."""
        return self._request("POST", f"/brainstems/{_segment(require_cloud_id(cloud_id))}/restore").body

    def audit_records(
        self, *, cloud_id: str | None = None, principal: str | None = None, since: str | None = None,
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:  # fmt: skip
        """Audit records across every page, fetched as the caller consumes them; at most ``limit``."""
        filters = {"cloud_id": cloud_id, "principal": principal, "since": since}
        return self._pages("/audit", filters, limit, what="audit listing")

    # ---- transport --------------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str | int] | None = None,
        json: dict[str, Any] | None = None,
    ) -> Reply:
        url = f"{self.base_url}{API_PREFIX}{path}"
        try:
            response = self._session.request(method, url, params=params, json=json, timeout=self.timeout)
        except requests.exceptions.SSLError as exc:
            # Reachable but not trusted: a different fix (CA bundle) than "is it running?".
            raise UnexpectedResponse(f"TLS handshake with {self.base_url} failed: {_reason(exc)}") from exc
        except requests.exceptions.Timeout as exc:
            raise Unreachable(f"{self.base_url} did not answer within {self.timeout[1]:g}s ({method} {path})") from exc
        except requests.exceptions.ConnectionError as exc:
            raise Unreachable(f"cannot reach the control plane at {self.base_url}: {_reason(exc)}") from exc
        logger.debug("%s %s -> %s", method, response.url, response.status_code)
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if response.status_code >= 400:
            raise _api_error(response, retry_after)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise UnexpectedResponse(
                f"{method} {path} answered {response.status_code} without a JSON object "
                f"(Content-Type: {response.headers.get('Content-Type') or 'none'}); {_WRONG_SERVER_HINT}"
            )
        return Reply(body, retry_after)


def _segment(value: str) -> str:
    return quote(value, safe="")


def _api_error(response: requests.Response, retry_after: float | None) -> ApiError:
    """Read problem+json when it is there, else use the status line (proxies, the Functions host's bare 401)."""
    try:
        problem = response.json()
    except ValueError:
        problem = None
    if not isinstance(problem, dict):
        problem = {}
    title = _text(problem.get("title")) or f"HTTP {response.status_code} {response.reason or ''}".strip()
    detail = _text(problem.get("detail"))
    if not problem and response.status_code in (401, 403):
        detail = "check --key / TWINCTL_KEY or --token / TWINCTL_TOKEN"
    return ApiError(
        status=response.status_code,
        title=title,
        detail=detail,
        field=_text(problem.get("field")),
        problem=problem,
        retry_after=retry_after,
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _reason(exc: Exception) -> str:
    """The innermost cause's message (urllib3 nests them three deep), without the pool's noise."""
    cause: BaseException = exc
    while cause.__cause__ is not None or (cause.args and isinstance(cause.args[0], BaseException)):
        cause = cause.__cause__ or cause.args[0]
    text = str(cause)
    # urllib3 says "<urllib3.connection.HTTPConnection object at 0x...>: Failed to establish a new connection: ..."
    text = re.sub(r"<[^>]*object at 0x[0-9a-f]+>:?\s*", "", text)
    return text or type(cause).__name__
