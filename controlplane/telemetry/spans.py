"""One span per HTTP route and per activity, carrying the ids and the outcome; the operation metrics.

HTTP routes all pass through ``http_api.routes.guarded``, which opens ``http_span``. Activities are
wrapped once, where function_app.py registers the blueprints (``instrument_activities``), so no
activity has to remember it. ARM calls made inside either appear as child dependency spans through
azure-core's OpenTelemetry tracing plugin (see setup.py).
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import azure.functions as func
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from controlplane.domain.durable_names import Activity
from controlplane.domain.errors import ControlPlaneError
from controlplane.registry import default_registry
from controlplane.telemetry import metrics
from controlplane.telemetry.context import ID_NAMES, annotate, reset_ids, restore_ids
from controlplane.telemetry.setup import exporting

logger = logging.getLogger("controlplane.telemetry")
_tracer = trace.get_tracer("controlplane")

# Which operation a 202 from a route starts.
_STARTED_BY_ROUTE = {"create_brainstem": "create", "delete_brainstem": "delete"}
# Teardown's steps, so a recorded failure is counted against the right operation.
_DELETE_STEPS = frozenset({"wait_for_provisioning", "delete_resource_group", "verify_deleted", "record_deleted"})


class HttpOutcome:
    """What the route answered; ``http_span`` reads it when the route returns."""

    def __init__(self) -> None:
        self.response: func.HttpResponse | None = None


@contextmanager
def http_span(route: str, req: func.HttpRequest) -> Iterator[HttpOutcome]:
    token = reset_ids()
    outcome = HttpOutcome()
    try:
        with _tracer.start_as_current_span(f"{req.method} {route}", kind=SpanKind.SERVER) as span:
            span.set_attributes({"http.request.method": req.method, "http.route": route})
            yield outcome
            if outcome.response is not None:
                status = outcome.response.status_code
                _annotate_from_body(outcome.response)
                span.set_attributes({"http.response.status_code": status, "outcome": _http_outcome(status)})
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
                if status == 202 and route in _STARTED_BY_ROUTE:
                    metrics.operation(_STARTED_BY_ROUTE[route], "started")
    finally:
        restore_ids(token)


def _http_outcome(status: int) -> str:
    return "succeeded" if status < 400 else ("refused" if status < 500 else "failed")


def _annotate_from_body(response: func.HttpResponse) -> None:
    if response.mimetype != "application/json":
        return
    try:
        body = json.loads(response.get_body() or b"null")
    except ValueError:
        return
    if isinstance(body, dict):
        annotate(**{name: body.get(name) for name in ID_NAMES if name != "step"})


def log_answered_error(error: ControlPlaneError) -> None:
    """Log a ControlPlaneError answered to a caller, once: a 4xx is the caller's (info), a 5xx ours."""
    level = logging.ERROR if error.status >= 500 else logging.INFO
    logger.log(level, "answered %s %s: %s", error.status, error.type, error.detail)
    span = trace.get_current_span()
    span.set_attribute("error.type", error.type)


def instrument_activities(blueprints: Any) -> None:
    """Wrap every activity's user function in an activity span (before the app registers them).

    azure-functions keeps the decorated user function on ``Function._func`` (``get_user_function()``
    reads it); the wrapper keeps its signature (``functools.wraps``) so the worker binds the same input.
    """
    for blueprint in blueprints:
        for builder in blueprint._function_builders:
            function = builder._function
            if any(binding.type == "activityTrigger" for binding in function.get_bindings()):
                if not getattr(function._func, "__controlplane_traced__", False):
                    function._func = _traced(function.get_function_name(), function._func)


def _traced(name: str, user_function: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(user_function):

        @functools.wraps(user_function)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            with _activity_span(name, args, kwargs) as finish:
                return finish(await user_function(*args, **kwargs))

        traced: Callable[..., Any] = run_async
    else:

        @functools.wraps(user_function)
        def run(*args: Any, **kwargs: Any) -> Any:
            with _activity_span(name, args, kwargs) as finish:
                return finish(user_function(*args, **kwargs))

        traced = run
    traced.__controlplane_traced__ = True  # type: ignore[attr-defined]
    return traced


@contextmanager
def _activity_span(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Iterator[Callable[[Any], Any]]:
    given = next(iter(kwargs.values()), args[0] if args else None)
    job = given.get("job", given) if isinstance(given, dict) else {}
    token = reset_ids()
    try:
        with _tracer.start_as_current_span(f"activity {name}", kind=SpanKind.INTERNAL) as span:
            annotate(**{key: job.get(key) for key in ID_NAMES if key != "step" and isinstance(job, dict)}, step=name)

            def finish(result: Any) -> Any:
                outcome, code = _activity_outcome(result)
                span.set_attribute("outcome", outcome)
                if code:
                    span.set_attribute("error.code", code)
                _record_operation(name, given, outcome)
                return result

            try:
                yield finish
            except Exception as exc:
                # Raised: a transient failure Durable retries, or a bug. Either way the span says so.
                span.set_attribute("outcome", "failed")
                code = getattr(getattr(exc, "error", None), "code", None) or type(exc).__name__
                span.set_attribute("error.code", code)
                span.set_status(Status(StatusCode.ERROR, code))
                raise
    finally:
        restore_ids(token)


def _activity_outcome(result: Any) -> tuple[str, str]:
    if isinstance(result, dict) and isinstance(result.get("error"), dict):
        return "failed", str(result["error"].get("code", ""))
    if isinstance(result, dict) and result.get("fenced"):
        return "fenced", ""
    return "succeeded", ""


def _record_operation(activity: str, given: Any, outcome: str) -> None:
    """The activities that end an operation count it (they run once per job that reaches them)."""
    if outcome != "succeeded":
        return
    if activity == Activity.MARK_ACTIVE:
        metrics.operation("create", "succeeded")
        _record_time_to_ready(given)
    elif activity == Activity.MARK_DELETED:
        metrics.operation("delete", "succeeded")
    elif activity == Activity.MARK_ERRORED and isinstance(given, dict):
        error = given.get("error") or {}
        step = str(error.get("step", ""))
        op = "delete" if step in _DELETE_STEPS else "create"
        metrics.operation(op, "failed", step=step, error_code=str(error.get("code", "")))


def _record_time_to_ready(job: Any) -> None:
    if not exporting() or not isinstance(job, dict):
        return  # one registry read per create is only worth it when someone is watching
    try:
        created = datetime.fromisoformat(default_registry().get(str(job["cloud_id"])).created_at)
    except Exception:  # noqa: BLE001 - a metric never breaks the activity it measures
        logger.debug("time to ready not recorded", exc_info=True)
        return
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    metrics.time_to_ready.record((datetime.now(UTC) - created).total_seconds())
