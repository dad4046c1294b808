"""The lifecycle event: CloudEvents 1.0 by the spec, the documented schema, stable ids, public data only."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from standardwebhooks import Webhook

from controlplane.domain.events import PUBLIC_FIELDS, LifecycleEvent, Transition, event_id
from controlplane.events.webhook import signature_headers
from sandbox.events import cloudevent_problems
from tests.api.openapi_check import spec

JOB = "0123456789abcdef0123456789abcdef"
ROW = {
    "cloud_id": "twin-kody-e89834", "name": "kody", "owner": "github:alice", "region": "eastus2",
    "runtime_target": "azure-consumption-py311", "deploy_ref": "v1.4.0", "status": "active", "job_id": JOB,
    "url": "https://twin-kody-e89834.azurewebsites.net", "subscription_id": "00000000-0000-4000-8000-000000000001",
    "callback_url": "https://hooks.example.com/x", "policy": {"first_retry_seconds": 5},
}  # fmt: skip


def lifecycle_schema() -> Draft202012Validator:
    registry = Registry().with_resource(
        "urn:openapi", Resource.from_contents(spec(), default_specification=DRAFT202012)
    )
    return Draft202012Validator({"$ref": "urn:openapi#/components/schemas/LifecycleEvent"}, registry=registry)


@pytest.mark.parametrize("transition", list(Transition))
def test_every_transition_is_a_valid_cloudevent_of_the_documented_schema(transition: Transition) -> None:
    event = LifecycleEvent.from_row(transition, ROW, time="2026-11-25T01:02:03.456789Z").to_cloudevent("/twinstack/cp")
    assert cloudevent_problems(event) == []
    lifecycle_schema().validate(event)
    assert event["type"] == f"dev.twinstack.brainstem.{transition.value}"
    assert (event["specversion"], event["subject"], event["source"]) == ("1.0", "twin-kody-e89834", "/twinstack/cp")


def test_the_id_is_the_job_and_the_transition_so_duplicates_can_be_dropped() -> None:
    first = LifecycleEvent.from_row(Transition.ACTIVE, ROW, time="2026-11-25T01:02:03Z")
    again = LifecycleEvent.from_row(Transition.ACTIVE, ROW, time="2026-11-25T01:02:03Z")
    assert first.id == again.id == event_id(JOB, Transition.ACTIVE) == f"{JOB}.active"
    assert LifecycleEvent.from_row(Transition.ACCEPTED, ROW, time="2026-11-25T01:02:03Z").id != first.id
    assert LifecycleEvent.from_input(first.to_input()) == first


def test_data_holds_only_the_public_fields() -> None:
    data = LifecycleEvent.from_row(Transition.ACTIVE, ROW, time="2026-11-25T01:02:03Z").data
    assert set(data) == set(PUBLIC_FIELDS)
    assert "subscription_id" not in data and "callback_url" not in data and "policy" not in data
    errored = LifecycleEvent.from_row(
        Transition.ERRORED, ROW, time="2026-11-25T01:02:03Z",
        error={"step": "storage_account", "code": "Conflict", "message": "taken", "status": 409, "transient": False},
    )  # fmt: skip
    assert errored.data["error"] == {"step": "storage_account", "code": "Conflict", "message": "taken"}


def test_the_spec_check_refuses_what_the_spec_forbids() -> None:
    good = LifecycleEvent.from_row(Transition.ACTIVE, ROW, time="2026-11-25T01:02:03Z").to_cloudevent("/cp")
    assert cloudevent_problems({**good, "specversion": "0.3"})
    assert cloudevent_problems({k: v for k, v in good.items() if k != "source"})
    assert cloudevent_problems({**good, "id": ""})
    assert cloudevent_problems({**good, "time": "25/11/2026"})
    assert cloudevent_problems({**good, "Bad_Name": "x"})
    assert cloudevent_problems({**good, "data_base64": "AAAA"})


def test_the_signature_is_standard_webhooks_hmac_sha256() -> None:
    key_bytes = bytes(range(32))
    key = "whsec_" + base64.b64encode(key_bytes).decode()
    old = "whsec_" + base64.b64encode(bytes(range(32, 64))).decode()
    at = datetime(2026, 11, 25, 1, 2, 3, tzinfo=UTC)
    body = '{"id":"x"}'
    headers = signature_headers("evt-1", body, (key, old), at=at)
    expected = hmac.new(key_bytes, f"evt-1.{int(at.timestamp())}.{body}".encode(), hashlib.sha256).digest()
    first, second = headers["webhook-signature"].split(" ")
    assert first == "v1," + base64.b64encode(expected).decode()  # computed by hand, as the README tells receivers
    assert headers["webhook-id"] == "evt-1" and headers["webhook-timestamp"] == str(int(at.timestamp()))
    assert second != first  # the key in rotation signs too
    fresh = signature_headers("evt-1", body, (old,), at=datetime.now(UTC))
    assert Webhook(old).verify(body, fresh) == {"id": "x"}  # and the reference library agrees
