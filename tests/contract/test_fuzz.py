"""Schemathesis against the running sandbox: every operation openapi.yaml documents, every phase, every check.

The document is read from the sandbox itself (GET /api/cp/openapi.yaml), so what is fuzzed is what is
served, and an operation added to the document is fuzzed without a change here. Run once as an operator
(the x-api-key) and once as an owner (a bearer token from a loopback OpenID issuer), so both sides of
every authorization rule meet the fuzzer.

One allowance, Schemathesis's own way for "a rejection the schema can't express" (`st explain ST202`):
an operation whose document lists `x-refusals-beyond-schema` (its deployment's configuration: the
allowed regions, the callback allow-list, the subscription pool; a token from another listing) may
answer a schema-valid request with 400. Every check still runs on it.

One check is off for the reads of a twin, and why is in `reads_after_an_accepted_delete`: its DELETE
answers 202 (teardown accepted, not done), so the twin is still readable afterwards, by design.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.contract.conftest import ContractSandbox

ROOT = Path(__file__).resolve().parents[2]
# Bounded in time on a 2-core machine: each run's fuzzing and stateful phases stop at their budget.
SECONDS_PER_RUN = 50
EXAMPLES_PER_OPERATION = 15
# Fixed, so a run repeats; CP_FUZZ_SEED=<n> explores other inputs (a failure it finds is fixed, then kept green).
SEED = os.environ.get("CP_FUZZ_SEED", "28")
# Schemathesis's default for positive_data_acceptance, plus 400 where the document says why.
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]


def operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    methods = {"get", "put", "post", "delete", "patch", "head", "options"}
    return [op for item in document["paths"].values() for name, op in item.items() if name in methods]


def template(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def reads_after_an_accepted_delete(document: dict[str, Any]) -> set[str]:
    """Reads of a resource whose DELETE only accepts the teardown (202, never 200/204).

    RFC 9110 15.3.3: 202 means the request "has not been acted upon", so the twin is still there (status
    `deleting`, then kept as fleet history with status `deleted`, docs/api.md) and a read of it is a 200.
    Schemathesis's use_after_free check (ST301) counts any 2xx DELETE as done, so for these reads alone
    it would report the documented behaviour; every other check still runs on them.
    """
    accepted_only = {
        template(path)
        for path, item in document["paths"].items()
        if "delete" in item and not {"200", "204"} & set(item["delete"]["responses"])
    }
    return {
        item["get"]["operationId"]
        for path, item in document["paths"].items()
        if "get" in item and any(template(path).startswith(deleted) for deleted in accepted_only)
    }


def config_for(document: dict[str, Any]) -> str:
    """schemathesis.toml: every check on; per operation with refusals the schema cannot express, 400 is an
    expected answer; use_after_free off for the reads of a twin (reads_after_an_accepted_delete).

    Every check is switched on here rather than with `--checks all`: a check named on the command line
    overrides an operation's own setting, so the one exception would not hold.
    """
    lines = ["[checks]", "enabled = true", ""]
    for operation_id in sorted(reads_after_an_accepted_delete(document)):
        lines += [
            "[[operations]]",
            f"include-operation-id = {json.dumps(operation_id)}",
            "checks.use_after_free.enabled = false",
            "",
        ]
    for operation in operations(document):
        if operation.get("x-refusals-beyond-schema"):
            lines += [
                "[[operations]]",
                f"include-operation-id = {json.dumps(operation['operationId'])}",
                f"checks.positive_data_acceptance.expected-statuses = {json.dumps([*ACCEPTED, '400'])}",
                "",
            ]
    return "\n".join(lines)


def schemathesis(sandbox: ContractSandbox, headers: dict[str, str], workdir: Path) -> subprocess.CompletedProcess[str]:
    config = workdir / "schemathesis.toml"
    config.write_text(config_for(yaml.safe_load((ROOT / "openapi.yaml").read_text())))
    arguments = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run"]
    arguments += [f"{sandbox.base_url}/api/cp/openapi.yaml", "--url", sandbox.base_url]
    arguments += ["--phases", "examples,coverage,fuzzing,stateful"]
    arguments += ["--max-examples", str(EXAMPLES_PER_OPERATION), "--max-time", str(SECONDS_PER_RUN), "--seed", SEED]
    arguments += ["--workers", "1", "--request-timeout", "30", "--report", "junit", "--report-dir", str(workdir)]
    for name, value in headers.items():
        arguments += ["--header", f"{name}: {value}"]
    return subprocess.run(arguments, capture_output=True, text=True, timeout=SECONDS_PER_RUN * 4, cwd=workdir)


@pytest.mark.timeout(600)
@pytest.mark.parametrize("caller", ["operator", "owner"])
def test_schemathesis_finds_no_failure(contract_sandbox: ContractSandbox, caller: str, tmp_path: Path) -> None:
    headers = contract_sandbox.operator_headers if caller == "operator" else contract_sandbox.owner_headers("fuzzer")
    started = time.monotonic()
    result = schemathesis(contract_sandbox, headers, tmp_path)
    print(f"schemathesis as {caller}: {time.monotonic() - started:.0f} s")
    print(result.stdout[-20000:])
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-4000:]


def test_every_check_runs_but_use_after_free_on_the_twins_read() -> None:
    """Asked of Schemathesis's own configuration, as the run builds it from the file."""
    import schemathesis
    from schemathesis.checks import CHECKS
    from schemathesis.config import SchemathesisConfig

    document = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    assert reads_after_an_accepted_delete(document) == {"getBrainstemOrJob"}
    schema = schemathesis.openapi.from_dict(document, config=SchemathesisConfig.from_str(config_for(document)))
    every = {check.__name__ for check in CHECKS.get_all()}
    for operation in schema.get_all_operations():
        operation = operation.ok()
        config = schema.config.checks_config_for(operation=operation, phase="stateful")
        enabled = {name for name in every if config.get_by_name(name=name).enabled}
        off = {"use_after_free"} if operation.definition.raw.get("operationId") == "getBrainstemOrJob" else set()
        assert enabled == every - off, operation.label
