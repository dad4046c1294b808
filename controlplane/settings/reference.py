"""The settings reference (docs/settings.md), generated from the Settings model so it cannot drift.

Names, defaults and bounds come from the model itself; what each setting means is said once, here.
``python -m controlplane.settings.reference`` rewrites the doc; a test fails when the doc, the model
and these meanings disagree (a setting with no meaning, a meaning with no setting, a stale doc).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from controlplane.settings.model import Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "settings.md"

MEANINGS: dict[str, str] = {
    "CP_STORAGE_CONNECTION": "connection string of the storage account holding the registry (`CP_STORAGE_CONNECTION` wins)",
    "CP_TABLE_ENDPOINT": "instead of a connection string: the table endpoint, reached with managed identity",
    "CP_REGISTRY_TABLE": "the registry's table",
    "CP_TASK_HUB": "the Durable task hub (`host.json` reads it)",
    "CP_SUBSCRIPTION_ID": "the default subscription (rows made before a pool existed; the pool when none is set)",
    "CP_SUBSCRIPTION_POOL": "JSON list of `{subscription_id, regions, max_twins_per_region (240), max_resource_groups (950)}` twins are placed in (see [fleet scale](fleet-scale.md))",
    "CP_ARM_WRITE_BUDGET": "`fleet`: one ARM budget per subscription shared by every instance (Table Storage); `process`: each process its own (single-instance only)",
    "CP_ARM_WRITES_PER_SECOND": "the ARM write budget per subscription, all instances together (ARM refills 10/s)",
    "CP_ARM_WRITE_BURST": "the budget's burst (ARM's bucket holds 200)",
    "CP_ARM_DELETES_PER_SECOND": "the ARM budget for ARM's separate deletes bucket, per subscription",
    "CP_ARM_DELETE_BURST": "the deletes budget's burst (ARM's bucket holds 200)",
    "CP_ARM_BUDGET_HORIZON_SECONDS": "how far ahead creates and single-twin updates may book the bucket (further: asked to come back)",
    "CP_ARM_BUDGET_BULK_HORIZON_SECONDS": "how far ahead a rollout's updates may book it, so single-twin work never queues behind a rollout",
    "CP_ARM_BUDGET_BLOCK": "tokens an instance leases from the shared bucket per storage write",
    "CP_ARM_BUDGET_GRACE_SECONDS": "how long after it comes due a booked step's grant (or a lease) may still be spent",
    "CP_ARM_ENDPOINT": "ARM endpoint (sovereign clouds; the local stand-in)",
    "CP_ARM_CREDENTIAL": "`default` = `DefaultAzureCredential`; `sandbox` = unsigned Entra-shaped tokens for each audience (the stand-ins check `aud`), refused unless the ARM endpoint is loopback",
    "CP_ARM_CA_BUNDLE": "CA bundle to trust for the ARM endpoint (the sandbox's self-signed CA, a proxy)",
    "CP_ARM_OPERATION_POLL_SECONDS": "durable-timer wait between polls of a begun long ARM operation (the storage account's, plan's and site's create or update), so no activity slot waits on ARM ([fleet scale](fleet-scale.md))",
    "CP_ONE_DEPLOY_POLL_SECONDS": "durable-timer wait between status requests of a Flex twin's One Deploy deployment when the scm site sends no `Retry-After` (azd asks every second, inside one process; here each request is an activity) ([fleet scale](fleet-scale.md))",
    "CP_HISTORY_RETENTION_DAYS": "ended Durable instances older than this are purged daily (`controlplane/workflows/history_retention.py`)",
    "CP_DELETE_GRACE_SECONDS": "soft delete: a DELETE leaves the twin running, `pending_delete`, this long before its teardown begins; `POST …/restore` cancels; 0: at once ([day-two safety](day-two-safety.md))",
    "CP_DELETE_RATE_LIMIT": "the bulk guard: more deletes than this by one principal within an hour are a 429 unless an operator confirms with `?confirm=bulk`",
    "CP_DRIFT_SETTINGS_PER_RUN": "how many active twins' live app settings the reconcile compares with the registry per subscription and run (0: none; the rest on later runs)",
    "CP_ARM_POLLING_INTERVAL_SECONDS": "wait between polls of a long ARM operation when ARM sends no `Retry-After`",
    "CP_DEFAULT_REGION": "region when a request names none",
    "CP_ALLOWED_REGIONS": "comma-separated regions a request may name",
    "CP_DEFAULT_RUNTIME_TARGET": "runtime target when a request names none",
    "CP_ORG_TAG": "the `owner=` tag on every resource group",
    "CP_DEFAULT_DEPLOY_REF": "code version when a request names none",
    "CP_PACKAGE_URL_TEMPLATE": "the brainstem package for a deploy_ref, built: its requirements installed under `.python_packages/lib/site-packages` (Linux Consumption runs it as-is; see [deploy](deploy.md)); `http://` only for a loopback host",
    "CP_ENV_KEYS": "JSON map of app settings given to every brainstem (values may be Key Vault references)",
    "CP_BRAINSTEM_URL_TEMPLATE": "a brainstem's URL, given to callers and probed for readiness (`{host}`, `{app_name}`)",
    "CP_BRAINSTEM_READINESS_PATH": "the brainstem route readiness asks: `active` only on a 2xx that, where it reports a `deploy_ref`, reports the one published (never `/`)",
    "CP_SCM_URL_TEMPLATE": "a Flex twin's scm site, where One Deploy takes its code (`{scm_host}`, `{app_name}`)",
    "CP_PUBLISH_TIMEOUT_SECONDS": "how long publishing may follow a deployment or wait out a fresh role assignment",
    "CP_READINESS_TIMEOUT_SECONDS": "how long a new brainstem may take to answer",
    "CP_RECONCILE_GRACE_SECONDS": "the repair's two looks at the registry are this far apart (see [operations](operations.md))",
    "CP_RECONCILE_LOST_JOB_SECONDS": "a busy row whose job Durable has not known for this long is marked errored (`JobLost`)",
    "CP_HEARTBEAT_STALE_AFTER_SECONDS": "an active twin unseen this long is stale (`/health`, `?stale=true`)",
    "CP_HEARTBEAT_PAGE_SIZE": "registry rows per heartbeat activity (read by key; the active ones are probed)",
    "CP_HEARTBEAT_CONCURRENCY": "readiness probes a heartbeat activity runs at once",
    "CP_HEARTBEAT_TIMEOUT_SECONDS": "seconds a heartbeat probe may take",
    "CP_READINESS_PROBE_INTERVAL_SECONDS": "durable-timer wait between probes",
    "CP_TEARDOWN_POLL_INTERVAL_SECONDS": "durable-timer wait between polls of a resource-group delete",
    "CP_TEARDOWN_TIMEOUT_SECONDS": "give up on a delete after this long",
    "CP_ACTIVITY_FIRST_RETRY_SECONDS": "first back-off of `call_activity_with_retry` (doubles each attempt)",
    "CP_ACTIVITY_MAX_ATTEMPTS": "attempts per activity before the step fails for good",
    "CP_AUTH": "who may call: OIDC issuers, operator key hashes, App Service auth (see [security](security.md))",
    "CP_OWNER_QUOTA": "live brainstems per owner (0 = no limit; at most 1000)",
    "CP_OPERATORS_QUOTA_EXEMPT": "operators may create past an owner's quota",
    "CP_LOGS_QUERY_ENDPOINT": "the Log Analytics query API a rollout's error-rate gate asks (sovereign clouds; the loopback stand-in)",
    "CP_LOGS_QUERY_CA_BUNDLE": "CA bundle to trust for the Log Analytics endpoint (the sandbox's self-signed CA)",
    "CP_FLEX_INSTANCE_MEMORY_MB": "Flex Consumption instance size: `512`, `2048` or `4096`",
    "CP_FLEX_MAXIMUM_INSTANCE_COUNT": "Flex Consumption scale-out limit per app (Learn's bounds)",
    "CP_EVENTGRID_ENDPOINT": "the Event Grid topic every lifecycle event is published to (`https://<topic>.<region>-1.eventgrid.azure.net/api/events`; see [events](events.md))",
    "CP_EVENTGRID_CREDENTIAL": "`default` = `DefaultAzureCredential` (role EventGrid Data Sender on the topic); `sandbox` = an unsigned token for Event Grid's audience, refused unless the endpoint is loopback",
    "CP_EVENT_SOURCE": "the CloudEvents `source` of every event (consumers de-duplicate by `source` + `id`)",
    "CP_CALLBACK_ALLOWED_HOSTS": "comma-separated hosts a create's `callback_url` may name: `hooks.example.com`, `*.example.com` (names below it)",
    "CP_CALLBACK_SIGNING_KEY": "**secret**, required with an allow-list: `whsec_` + base64 of 24–64 random bytes; several (space-separated) while rotating, the first is current",
    "CP_CALLBACK_SANDBOX_LOOPBACK": "sandbox only: callbacks to loopback hosts (and only those); refused unless every allowed host is `127.0.0.1`, `localhost` or `::1`",
    "CP_EVENTS_CA_BUNDLE": "CA bundle to trust for the topic and callbacks (the sandbox's self-signed CA)",
    "CP_SANDBOX_BLOB_CONNECTION": "sandbox only: a blob connection string (Azurite) that receives Flex code packages; refused unless its `BlobEndpoint` is loopback",
    "CP_PUBLIC_BASE_URL": "where callers reach this API, for the absolute `Location` of a 202 (a custom domain, a gateway); unset: `WEBSITE_HOSTNAME`",
    "CP_RETRY_AFTER_SECONDS": "the `Retry-After` of a 202 (an accepted job, a job still running): how often clients look again",
    "WEBSITE_HOSTNAME": "set by App Service: the app's default host name, used for `Location` when `CP_PUBLIC_BASE_URL` is unset (never the request's `Host`)",
    "CP_ROLLOUT_POLL_SECONDS": "how often a rollout looks at its running updates (durable timer between looks)",
}

# Settings the platform reads (not the control plane's code), which infra sets for it.
PLATFORM_MEANINGS: dict[str, tuple[str, str]] = {
    "PYTHON_THREADPOOL_THREAD_COUNT": (
        "`32` (set by infra)",
        "the Python worker's threads for sync functions; activities wait on ARM, so the documented maximum, not `min(32, CPUs + 4)`",
    ),
    "AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionName": (
        "`TaskHubStorage` (set by infra with Durable on Azure Storage)",
        "the Durable task hub's own storage account, apart from the registry's and the host's, reached by identity "
        "through `TaskHubStorage__blobServiceUri`/`__queueServiceUri`/`__tableServiceUri`/`__credential`/`__clientId`; "
        "unset (local runs): `AzureWebJobsStorage`; the Durable Task Scheduler has its own connection string ([deploy](deploy.md))",
    ),
}

_INTRO = """# Settings

Generated from `controlplane/settings/model.py` by `python -m controlplane.settings.reference`; a test
fails when this page and the model disagree, so edit the model (and the meaning in
`controlplane/settings/reference.py`), never this page.

All settings are read in one place (`controlplane/settings/`) on first use; a missing or invalid
one fails the request with a problem naming the setting (never its value).
`local.settings.example.json` holds a working default for each.
"""


def setting_names(field: FieldInfo) -> list[str]:
    alias: Any = field.validation_alias
    return list(getattr(alias, "choices", [alias]))


def _default(field: FieldInfo) -> str:
    if field.default is PydanticUndefined:
        return "required"
    if field.default in (None, (), ""):
        return "—"
    return f"`{field.default}`"


def _bounds(field: FieldInfo) -> str:
    words = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<", "min_length": "length ≥"}
    parts = []
    for constraint in field.metadata:
        for name, symbol in words.items():
            value = getattr(constraint, name, None)
            if value is not None:
                parts.append(f"{symbol} {value}")
    return ", ".join(parts)


def render() -> str:
    rows = ["| setting | default | bounds | meaning |", "| --- | --- | --- | --- |"]
    for field in Settings.model_fields.values():
        names = setting_names(field)
        shown = " / ".join(f"`{name}`" for name in names)
        rows.append(f"| {shown} | {_default(field)} | {_bounds(field)} | {MEANINGS[names[0]]} |")
    for name, (default, meaning) in PLATFORM_MEANINGS.items():
        rows.append(f"| `{name}` | {default} |  | {meaning} |")
    return _INTRO + "\n" + "\n".join(rows) + "\n"


if __name__ == "__main__":
    DOC.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {DOC}\n")
