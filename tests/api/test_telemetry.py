"""Real requests through the rig leave real spans: one per route and per activity, with the ids and
the outcome, ARM calls as dependency spans under them, no secret anywhere, and the operation metrics.

The OpenTelemetry SDK's in-memory exporter and reader stand where the Azure Monitor exporter would
(``setup_telemetry`` installs that one only with APPLICATIONINSIGHTS_CONNECTION_STRING set).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from azure.core.settings import settings as azure_core_settings
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from controlplane.domain.durable_names import Activity
from controlplane.telemetry import setup_telemetry
from controlplane.telemetry.setup import trace_azure_sdk
from tests.api.conftest import Api

KODY = "twin-kody-e89834"
_EXPORTER = InMemorySpanExporter()
_READER = InMemoryMetricReader()
_installed: dict[str, bool] = {}


@pytest.fixture
def exported() -> Iterator[InMemorySpanExporter]:
    # Global providers can be set once per process: install them once, clear between uses.
    if not _installed:
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        trace.set_tracer_provider(provider)
        metrics.set_meter_provider(MeterProvider(metric_readers=[_READER]))
        _installed["yes"] = True
    _EXPORTER.clear()
    trace_azure_sdk()
    yield _EXPORTER
    azure_core_settings.tracing_implementation = None  # the rest of the suite runs untraced
    _EXPORTER.clear()


def _attributes(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def _operation_counts() -> dict[tuple[str, str, str, str], float]:
    counts: dict[tuple[str, str, str, str], float] = {}
    data = _READER.get_metrics_data()
    for resource_metrics in data.resource_metrics if data else []:
        for scope in resource_metrics.scope_metrics:
            for metric in scope.metrics:
                if metric.name != "controlplane.operations":
                    continue
                for point in metric.data.data_points:
                    a = point.attributes or {}
                    key = (str(a["operation"]), str(a["outcome"]), str(a.get("step", "")), str(a.get("error_code", "")))
                    counts[key] = point.value
    return counts


def test_without_a_connection_string_nothing_is_configured() -> None:
    assert setup_telemetry({}) is False
    assert setup_telemetry({"APPLICATIONINSIGHTS_CONNECTION_STRING": "  "}) is False


def test_create_and_delete_leave_spans_with_ids_outcomes_and_arm_dependencies(
    api: Api, exported: InMemorySpanExporter, caplog: pytest.LogCaptureFixture
) -> None:
    before = _operation_counts()
    created = api.post({"name": "kody", "owner": "github:ada"})
    job_id = created.json["job_id"]
    api.wait(job_id)
    deleting = api.delete(KODY)
    api.wait(deleting.json["job_id"])
    with caplog.at_level(logging.INFO, logger="controlplane.telemetry"):
        missing = api.get("twin-nobody-000000")
    assert missing.status == 404

    spans = exported.get_finished_spans()
    by_name: dict[str, list[ReadableSpan]] = {}
    for span in spans:
        by_name.setdefault(span.name, []).append(span)

    post = _attributes(by_name["POST create_brainstem"][0])
    assert by_name["POST create_brainstem"][0].kind == SpanKind.SERVER
    assert (post["job_id"], post["cloud_id"], post["outcome"], post["http.response.status_code"]) == (
        job_id, KODY, "succeeded", 202,
    )  # fmt: skip
    get_missing = _attributes(by_name["GET get_brainstem"][-1])
    assert (get_missing["outcome"], get_missing["http.response.status_code"]) == ("refused", 404)

    storage = _attributes(by_name["activity ensure_storage_account"][0])
    row = api.get(KODY).json
    assert storage["job_id"] == job_id and storage["cloud_id"] == KODY and storage["owner"] == "github:ada"
    assert storage["subscription_id"] == row["subscription_id"] and storage["step"] == Activity.ENSURE_STORAGE_ACCOUNT
    assert storage["outcome"] == "succeeded"
    for activity in (
        Activity.ENSURE_RESOURCE_GROUP,
        Activity.BEGIN_FUNCTION_SITE,
        Activity.MARK_ACTIVE,
        Activity.MARK_DELETED,
    ):
        assert _attributes(by_name[f"activity {activity}"][0])["outcome"] == "succeeded", activity

    # ARM calls are client (dependency) spans under the activity that made them (azure-core's plugin).
    storage_span = by_name["activity ensure_storage_account"][0]
    under = {storage_span.context.span_id}
    for span in sorted(spans, key=lambda s: s.start_time or 0):
        if span.parent is not None and span.parent.span_id in under:
            under.add(span.context.span_id)
    dependencies = [s for s in spans if s.context.span_id in under and s.kind == SpanKind.CLIENT]
    urls = [str(_attributes(s).get("url.full", _attributes(s).get("http.url", ""))) for s in dependencies]
    assert any("/providers/Microsoft.Storage/storageAccounts/" in url for url in urls), urls

    # Never a secret: no attribute of any span carries a key or a connection string.
    for span in spans:
        for value in _attributes(span).values():
            assert "AccountKey=" not in str(value) and "sig=" not in str(value), (span.name, value)

    # A ControlPlaneError answered to the caller is logged once, at info for a 4xx.
    answered = [r for r in caplog.records if r.name == "controlplane.telemetry" and "answered 404" in r.getMessage()]
    assert len(answered) == 1 and answered[0].levelno == logging.INFO

    after = _operation_counts()
    for key in (("create", "started", "", ""), ("create", "succeeded", "", ""), ("delete", "started", "", ""),
                ("delete", "succeeded", "", "")):  # fmt: skip
        assert after.get(key, 0) - before.get(key, 0) == 1, key
