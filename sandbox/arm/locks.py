"""Microsoft.Authorization management locks at resource-group level, and the refusal they cause.

Wire shapes from Azure/azure-rest-api-specs
``specification/resources/resource-manager/Microsoft.Authorization/locks/stable/2020-05-01/locks.json``:
``PUT|GET|DELETE /subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.Authorization/locks/{lockName}``;
the body is a ``ManagementLockObject`` whose ``properties.level`` (required) is ``CanNotDelete`` or
``ReadOnly``; PUT answers 200/201 with the lock, DELETE 200/204. "When you apply a lock at a parent
scope, all child resources inherit the same lock."

What a ``CanNotDelete`` lock refuses: any DELETE of the locked scope or of anything beneath it, with
409 ``ScopeLocked`` and ARM's message "The scope '…' cannot perform delete operation because following
scope(s) are locked: '…'. Please remove the lock and try again." (the text users quote from live ARM,
e.g. Azure/apiops#606, hashicorp/terraform-provider-azurerm#17478). Learn, "Lock your resources to
protect your infrastructure": locks apply to control-plane operations only, so data-plane writes
(blobs, tables) go on. A lock lives under its scope's id, so it goes when the group goes: the only way
to delete a locked group is to delete its lock first.
"""

from __future__ import annotations

from .messages import ArmError, Call, Reply
from .store import ResourceStore, group_id

TYPE = "Microsoft.Authorization/locks"
LEVELS = ("CanNotDelete", "ReadOnly")  # "NotSpecified" is in the enum but is not a lock
_MAX_NOTES = 512  # locks.json: "Notes about the lock. Maximum of 512 characters."


def _lock_id(call: Call) -> str:
    return f"{group_id(call.subscription, call.params['group'])}/providers/{TYPE}/{call.params['lock']}"


def create_or_update(store: ResourceStore, call: Call) -> Reply:
    store.require_group(call.subscription, call.params["group"], for_write=True)
    properties = (call.body or {}).get("properties") or {}
    level = properties.get("level")
    if level not in LEVELS:
        # locks.json: ``level`` is required and an enum; the error code ARM uses is not in the spec, so the
        # stand-in answers its generic invalid-body refusal.
        raise ArmError(
            400,
            "InvalidRequestContent",
            f"The lock level '{level}' is not valid; it must be one of {', '.join(LEVELS)}.",
        )
    notes = properties.get("notes")
    if notes is not None and len(str(notes)) > _MAX_NOTES:
        raise ArmError(400, "InvalidRequestContent", f"Lock notes may be at most {_MAX_NOTES} characters.")
    resource_id = _lock_id(call)
    existing = store.get(resource_id)
    document = {
        "id": resource_id,
        "name": call.params["lock"],
        "type": TYPE,
        "properties": {"level": level, "notes": notes, "owners": properties.get("owners") or []},
    }
    store.put(resource_id, document)
    return Reply(200 if existing else 201, document)


def get(store: ResourceStore, call: Call) -> Reply:
    document = store.get(_lock_id(call))
    if document is None:
        raise ArmError(404, "LockNotFound", f"The lock '{call.params['lock']}' could not be found.")
    return Reply(200, document)


def delete(store: ResourceStore, call: Call) -> Reply:
    resource_id = _lock_id(call)
    if store.get(resource_id) is None:
        return Reply(204)
    store.remove_tree(resource_id)
    return Reply(200)


def refuse_if_locked(store: ResourceStore, resource_id: str) -> None:
    """ARM's check before any DELETE: a lock on the target or on any scope above it refuses it."""
    target = resource_id.lower().rstrip("/")
    held = []
    for lock in store.find(TYPE):
        scope = lock["id"].rsplit(f"/providers/{TYPE}/", 1)[0]
        if target == scope.lower() or target.startswith(scope.lower() + "/"):
            held.append(scope)
    if held:
        raise ArmError(
            409,
            "ScopeLocked",
            f"The scope '{resource_id}' cannot perform delete operation because following scope(s) are locked: "
            f"{', '.join(repr(scope) for scope in held)}. Please remove the lock and try again.",
        )
