"""One sandbox for the contract tests: an operator key, and owners' bearer tokens from a loopback issuer."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from controlplane.auth import hash_api_key
from tests.api.identity_provider import IdentityProvider
from tests.sandbox_process import RunningSandbox, running_sandbox

# The sandbox adds its own printed key to the CP_AUTH it is given; this one only satisfies the setting.
UNUSED_KEY_HASH = hash_api_key("contract-tests-unused-operator-key")


@dataclass
class ContractSandbox:
    sandbox: RunningSandbox
    idp: IdentityProvider

    @property
    def base_url(self) -> str:
        return self.sandbox.base_url

    @property
    def operator_headers(self) -> dict[str, str]:
        return {"x-api-key": self.sandbox.operator_key}

    def owner_headers(self, login: str) -> dict[str, str]:
        return self.idp.bearer(login)


@pytest.fixture(scope="module")
def contract_sandbox() -> Iterator[ContractSandbox]:
    idp = IdentityProvider()
    try:
        with running_sandbox({"CP_AUTH": idp.auth_setting(UNUSED_KEY_HASH)}, latency_scale=0.05) as sandbox:
            yield ContractSandbox(sandbox, idp)
    finally:
        idp.close()
