"""openapi.yaml's twin is the model's: the API's view and the event data hold exactly the fields their roles mark.

A field added to the row (controlplane.domain.twin_fields, controlplane.domain.twin) reaches the API's
view and the events by its role; these tests fail until openapi.yaml documents it, so the contract cannot
drift from the model.
"""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from controlplane.domain.events import LifecycleEvent, Transition
from controlplane.domain.lifecycle import Status
from controlplane.domain.twin import API_FIELDS, EVENT_FIELDS, Twin
from tests.api.openapi_check import spec

JOB = "0123456789abcdef0123456789abcdef"
BARE = Twin(
    cloud_id="twin-kody-e89834", name="kody", owner="github:kody", region="eastus2",
    runtime_target="azure-consumption-py311", deploy_ref="v1.4.0", status=Status.PROVISIONING, job_id=JOB,
    created_at="2026-12-07T10:00:00.000000Z", last_seen="2026-12-07T10:00:00.000000Z",
)  # fmt: skip
# Every field set, so that the view holds each one with a value the schema must accept.
FULL = BARE.with_changes(
    status=Status.UPDATING, url="https://twin-kody-e89834.azurewebsites.net/",
    subscription_id="00000000-0000-4000-8000-000000000001", previous_deploy_ref="v1.3.0", target_deploy_ref="v1.5.0",
    app_settings={"DB": "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/db)"},
    target_app_settings={}, callback_url="https://hooks.example.com/twinstack",
    error={"step": "publish_code", "code": "Conflict", "message": "busy", "status": 409, "transient": True},
    hold={"reason": "audit", "by": "api-key:ops", "at": "2026-12-07T10:00:00Z", "until": None},
    delete_at="2026-12-08T10:00:00.000000Z", drift=["tags"], slots=("owner:github:kody",),
)  # fmt: skip


def schema(name: str) -> dict[str, Any]:
    found: dict[str, Any] = spec()["components"]["schemas"][name]
    return found


def validator(name: str) -> Draft202012Validator:
    registry = Registry().with_resource(
        "urn:openapi", Resource.from_contents(spec(), default_specification=DRAFT202012)
    )
    return Draft202012Validator({"$ref": f"urn:openapi#/components/schemas/{name}"}, registry=registry)


def test_the_documented_twin_has_exactly_the_public_fields_and_pending_delete() -> None:
    documented = set(schema("Brainstem")["properties"])
    assert documented == {*API_FIELDS, "pending_delete"}
    assert set(schema("Brainstem")["required"]) <= documented


@pytest.mark.parametrize("row", [BARE, FULL], ids=["bare", "every-field-set"])
def test_the_api_view_of_a_row_is_a_documented_twin(row: Twin) -> None:
    view = row.to_dict()
    assert set(view) == set(schema("Brainstem")["properties"])
    assert [error.message for error in validator("Brainstem").iter_errors(view)] == []


def test_the_slots_are_bookkeeping_never_shown() -> None:
    assert "slots" not in API_FIELDS and "slots" not in FULL.to_dict()


def test_the_documented_event_data_has_exactly_the_event_fields_and_the_error() -> None:
    data = schema("LifecycleEvent")["properties"]["data"]
    assert set(data["properties"]) == {*EVENT_FIELDS, "error"}
    assert set(data["required"]) == set(EVENT_FIELDS)


def test_an_event_from_a_row_is_documented() -> None:
    event = LifecycleEvent.from_row(Transition.UPDATED, FULL.to_dict(), time="2026-12-07T10:00:00.000000Z")
    assert [error.message for error in validator("LifecycleEvent").iter_errors(event.to_cloudevent("/cp"))] == []
    assert set(event.data) == set(EVENT_FIELDS)
