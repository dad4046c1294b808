"""What a caller may ask for, validated by the domain's rules (naming, owners, runtime targets).

The API and the workflows share these rules, so they can never disagree on what a valid twin is.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from controlplane.domain.errors import InvalidInput
from controlplane.domain.naming import validate_twin_name
from controlplane.domain.runtime_targets import target_spec
from controlplane.domain.twin import validate_owner

_REGION = re.compile(r"[A-Za-z0-9]{2,40}")
_DEPLOY_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class CreateRequest(BaseModel):
    """The body of POST /api/cp/brainstems."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str
    owner: str | None = None
    region: str | None = None
    runtime_target: str | None = None
    deploy_ref: str | None = None
    # Where to also send this twin's lifecycle events; checked against the operator's rules
    # (controlplane.service.callbacks) before anything is written.
    callback_url: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: object) -> object:
        # Left out means the default; null is not a value of any field (openapi.yaml types them as strings).
        if isinstance(data, dict):
            for field, value in data.items():
                if value is None and field in cls.model_fields:
                    raise InvalidInput(field, f"'{field}' is null; leave it out for the default")
        return data

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: object) -> object:
        return validate_twin_name(value)

    @field_validator("owner", mode="before")
    @classmethod
    def _owner(cls, value: object) -> object:
        return None if value is None else validate_owner(value)

    @field_validator("region", mode="before")
    @classmethod
    def _region(cls, value: object) -> object:
        # "" is not "the default": a field that is present must name a region.
        if value is not None and not (isinstance(value, str) and _REGION.fullmatch(value)):
            raise InvalidInput(
                "region", "region must be an Azure region name such as eastus2 (omit it for the default)"
            )
        return value

    @field_validator("runtime_target", mode="before")
    @classmethod
    def _target(cls, value: object) -> object:
        return None if value is None else target_spec(value).name

    @field_validator("deploy_ref", mode="before")
    @classmethod
    def _deploy_ref(cls, value: object) -> object:
        if value is not None and not (isinstance(value, str) and _DEPLOY_REF.fullmatch(value)):
            raise InvalidInput(
                "deploy_ref", "deploy_ref must be 1-64 letters, digits, '.', '_' or '-' (a git sha, tag or bundle hash)"
            )
        return value
