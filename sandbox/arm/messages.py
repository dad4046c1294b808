"""The stand-in's wire vocabulary: a parsed call, a reply, ARM's error shapes, the request log entry.

Kept apart from the HTTP plumbing so the resource-provider modules can be read (and tested) as plain
functions from a call to a reply, without sockets. Error bodies follow what each layer of Azure
really sends: ARM's front door and most providers answer ``{"error": {"code", "message"}}``; the
Web provider (App Service) answers its own capitalised ``{"Code", "Message", ...}`` shape, which the
SDK cannot parse into ``error.code`` — product code must cope with both, so the stand-in sends both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the stand-in saw it. Headers are left out on purpose: they carry the token."""

    method: str
    path: str
    query: dict[str, str]
    body: dict[str, Any] | None
    status: int
    route: str


@dataclass
class Call:
    """A request after routing: what the provider handlers work from."""

    method: str
    path: str
    query: dict[str, str]
    body: dict[str, Any] | None
    route: str
    params: dict[str, str]
    # Filled in by the dispatcher: the caller's object id (from the token), the latency settings, faults.
    caller: str = ""
    delay: float = 0.0
    fail_with: ArmError | None = None

    @property
    def subscription(self) -> str:
        return self.params.get("subscription", "")

    @property
    def api_version(self) -> str:
        return self.query.get("api-version", "")


@dataclass
class Reply:
    status: int
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


class ArmError(Exception):
    """An answer that is an error; raised anywhere in a handler, turned into a reply at the edge."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        web_format: bool = False,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})
        self.web_format = web_format

    def body(self) -> dict[str, Any]:
        if self.web_format:
            # App Service's own error document, as it comes back through ARM.
            return {
                "Code": self.code,
                "Message": self.message,
                "Target": None,
                "Details": [{"Message": self.message}, {"Code": self.code}],
                "Innererror": None,
            }
        return {"error": {"code": self.code, "message": self.message}}

    def body_for_status(self) -> dict[str, Any]:
        """ARM's operation-status document carries the error as ``{"error": {"code", "message"}}``."""
        return {"error": {"code": self.code, "message": self.message}}

    def reply(self) -> Reply:
        return Reply(self.status, self.body(), dict(self.headers))


# The errors ARM itself produces, with the codes and wording the real service uses, so that
# product code matching on `error.code` behaves the same here and in Azure.


def resource_group_not_found(group: str) -> ArmError:
    return ArmError(404, "ResourceGroupNotFound", f"Resource group '{group}' could not be found.")


def resource_not_found(resource_type: str, name: str, group: str) -> ArmError:
    return ArmError(
        404,
        "ResourceNotFound",
        f"The Resource '{resource_type}/{name}' under resource group '{group}' was not found. "
        "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
    )


def resource_group_being_deleted(group: str) -> ArmError:
    return ArmError(
        409,
        "ResourceGroupBeingDeleted",
        f"The resource group '{group}' is in deprovisioning state and cannot perform this operation.",
    )


def location_required() -> ArmError:
    return ArmError(400, "LocationRequired", "The location property is required for this definition.")
