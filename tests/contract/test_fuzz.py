"""Schemathesis against the running sandbox: every operation openapi.yaml documents, every phase, every check.

The document is read from the sandbox itself (GET /api/cp/openapi.yaml), so what is fuzzed is what is
served, and an operation added to the document is fuzzed without a change here. Run once as an operator
(the x-api-key) and once as an owner (a bearer token from a loopback OpenID issuer): owners see other
routes refuse them (403), and only their own twins.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.contract.conftest import ContractSandbox

# Bounded in time on a 2-core machine: each run's fuzzing and stateful phases stop at their budget.
SECONDS_PER_RUN = 50
EXAMPLES_PER_OPERATION = 15


def schemathesis(sandbox: ContractSandbox, headers: dict[str, str], report: Path) -> subprocess.CompletedProcess[str]:
    arguments = [sys.executable, "-m", "schemathesis.cli", "run", f"{sandbox.base_url}/api/cp/openapi.yaml"]
    arguments += ["--url", sandbox.base_url, "--phases", "examples,coverage,fuzzing,stateful", "--checks", "all"]
    arguments += ["--max-examples", str(EXAMPLES_PER_OPERATION), "--max-time", str(SECONDS_PER_RUN), "--seed", "28"]
    arguments += ["--workers", "1", "--request-timeout", "30", "--report", "junit", "--report-junit-path", str(report)]
    for name, value in headers.items():
        arguments += ["--header", f"{name}: {value}"]
    return subprocess.run(arguments, capture_output=True, text=True, timeout=SECONDS_PER_RUN * 4)


@pytest.mark.timeout(600)
@pytest.mark.parametrize("caller", ["operator", "owner"])
def test_schemathesis_finds_no_failure(contract_sandbox: ContractSandbox, caller: str, tmp_path: Path) -> None:
    headers = contract_sandbox.operator_headers if caller == "operator" else contract_sandbox.owner_headers("fuzzer")
    started = time.monotonic()
    result = schemathesis(contract_sandbox, headers, tmp_path / "junit.xml")
    print(f"schemathesis as {caller}: {time.monotonic() - started:.0f} s")
    print(result.stdout[-20000:])
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-4000:]
