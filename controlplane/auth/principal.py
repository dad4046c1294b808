"""Who is calling: the one value every route receives after authentication."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Principal:
    """An authenticated caller.

    ``operator`` may act for every owner; ``owner`` only for ``owner``. ``subject_hint`` is meant for
    logs: it names where the credential came from (issuer host, key id, which API key slot) and never
    holds the credential itself or any claim value.
    """

    kind: Literal["operator", "owner"]
    owner: str | None
    via: Literal["bearer", "api-key", "platform"]
    subject_hint: str

    def __post_init__(self) -> None:
        if self.kind == "owner" and not self.owner:
            raise ValueError("an owner principal needs an owner id")
        if self.kind == "operator" and self.owner is not None:
            raise ValueError("an operator principal acts for every owner and has no owner id")

    @property
    def is_operator(self) -> bool:
        return self.kind == "operator"
