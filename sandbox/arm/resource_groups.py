"""Microsoft.Resources resource groups: create, read, probe, and the long-running delete.

Deletion is the interesting part. ARM answers 202 with a Location to poll; until the operation
finishes the group still exists with provisioningState "Deleting" (GET and HEAD see it, new work in
it is refused with ResourceGroupBeingDeleted), and when it finishes the group and every resource
beneath it are gone. A DELETE of a group that does not exist is a 404, not a silent success.
"""

from __future__ import annotations

from .messages import (
    ArmError,
    Call,
    Reply,
    location_required,
    resource_group_being_deleted,
    resource_group_not_found,
)
from .store import ResourceStore, group_id

TYPE = "Microsoft.Resources/resourceGroups"


def create_or_update(store: ResourceStore, call: Call) -> Reply:
    body = call.body or {}
    name = call.params["group"]
    location = body.get("location")
    if not location:
        raise location_required()
    resource_id = group_id(call.subscription, name)
    existing = store.get(resource_id)
    if existing is not None:
        if existing["properties"]["provisioningState"] == "Deleting":
            raise resource_group_being_deleted(existing["name"])
        if existing["location"].lower() != location.lower():
            raise ArmError(
                409,
                "InvalidResourceGroupLocation",
                f"Invalid resource group location '{location}'. "
                f"The Resource group already exists in location '{existing['location']}'.",
            )
    document = {
        "id": existing["id"] if existing else resource_id,
        "name": existing["name"] if existing else name,
        "type": TYPE,
        "location": existing["location"] if existing else location,
        "properties": {"provisioningState": "Succeeded"},
    }
    if body.get("tags") is not None:
        document["tags"] = body["tags"]
    if body.get("managedBy"):
        document["managedBy"] = body["managedBy"]
    store.put(resource_id, document)
    return Reply(200 if existing else 201, document)


def get(store: ResourceStore, call: Call) -> Reply:
    document = store.get(group_id(call.subscription, call.params["group"]))
    if document is None:
        raise resource_group_not_found(call.params["group"])
    return Reply(200, document)


def check_existence(store: ResourceStore, call: Call) -> Reply:
    exists = store.get(group_id(call.subscription, call.params["group"])) is not None
    return Reply(204 if exists else 404)


def delete(store: ResourceStore, call: Call, *, polls_required: int) -> Reply:
    resource_id = group_id(call.subscription, call.params["group"])
    document = store.get(resource_id)
    if document is None:
        raise resource_group_not_found(call.params["group"])
    underway = store.in_flight(resource_id)
    if underway is not None and call.fail_with is None:
        # A second DELETE while the first runs joins the same operation, as in ARM.
        return store.accepted(underway)
    previous_state = document["properties"]["provisioningState"]
    document["properties"]["provisioningState"] = "Deleting"

    def on_failure() -> None:
        document["properties"]["provisioningState"] = previous_state

    operation = store.start_operation(
        resource_id=resource_id,
        location_path=f"/subscriptions/{call.subscription}/operationresults",
        api_version=call.api_version,
        delay=call.delay,
        polls_required=polls_required,
        on_success=lambda: store.remove_tree(resource_id),
        final_reply=lambda: Reply(200),
        failure=call.fail_with,
        on_failure=on_failure,
    )
    return store.accepted(operation)
