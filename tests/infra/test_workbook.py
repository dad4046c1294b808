"""The Azure Monitor workbook charts the metrics the control plane really emits, under their real names."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from controlplane.telemetry import metrics
from tests.infra.bicep import BicepFile
from tests.infra.deployment import INFRA

WORKBOOK = INFRA / "app" / "workbook.json"


def emitted_metric_names() -> set[str]:
    """The first argument of every create_counter / create_histogram call in the telemetry module."""
    tree = ast.parse(Path(metrics.__file__).read_text())
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr.startswith("create_")
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }


def test_every_metric_the_control_plane_emits_has_a_chart_and_no_chart_reads_another() -> None:
    items = json.loads(WORKBOOK.read_text())["items"]
    queries = [item["content"]["query"] for item in items if item["type"] == 3]
    charted = {query.split('| where name == "', 1)[1].split('"', 1)[0] for query in queries}
    assert len(emitted_metric_names()) == 4
    assert charted == emitted_metric_names()


def test_main_deploys_the_workbook_on_the_control_planes_application_insights() -> None:
    assert "workbook" in BicepFile(INFRA / "main.bicep").modules
    assert "applicationInsightsId: monitoring.outputs.applicationInsightsId" in (INFRA / "main.bicep").read_text()
    assert "loadJsonContent('workbook.json')" in (INFRA / "app" / "workbook.bicep").read_text()
