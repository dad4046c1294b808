"""Settings of lifecycle events (README, Events): an Event Grid topic (off when unset) and callbacks."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, Field, field_validator

from controlplane.settings import events


def _env(name: str, default: Any) -> Any:
    return Field(default=default, validation_alias=AliasChoices(name))


class EventSettings(BaseModel):
    event_source: str = Field(
        default="/twinstack/control-plane", min_length=1, validation_alias=AliasChoices("CP_EVENT_SOURCE")
    )
    eventgrid_endpoint: str | None = _env("CP_EVENTGRID_ENDPOINT", None)
    # "default": DefaultAzureCredential (role EventGrid Data Sender); "sandbox": a fixed token, loopback only.
    eventgrid_credential: Literal["default", "sandbox"] = _env("CP_EVENTGRID_CREDENTIAL", "default")
    events_ca_bundle: str | None = _env("CP_EVENTS_CA_BUNDLE", None)
    callback_allowed_hosts: tuple[str, ...] = _env("CP_CALLBACK_ALLOWED_HOSTS", ())
    callback_signing_keys: tuple[str, ...] = Field(
        default=(), validation_alias=AliasChoices("CP_CALLBACK_SIGNING_KEY"), repr=False
    )
    callback_sandbox_loopback: bool = _env("CP_CALLBACK_SANDBOX_LOOPBACK", False)

    @field_validator("callback_allowed_hosts", mode="before")
    @classmethod
    def _callback_hosts(cls, value: object) -> tuple[str, ...]:
        return events.parse_allowed_hosts(value)

    @field_validator("callback_signing_keys", mode="before")
    @classmethod
    def _signing_keys(cls, value: object) -> tuple[str, ...]:
        return events.parse_signing_keys(value)

    @field_validator("eventgrid_endpoint")
    @classmethod
    def _eventgrid_endpoint(cls, value: str | None) -> str | None:
        return events.check_eventgrid_endpoint(value)
