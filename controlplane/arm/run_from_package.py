"""Publishing code to a Linux Consumption app the way ``az functionapp deployment source config-zip`` does.

The CLI (azure-cli src/azure-cli/azure/cli/command_modules/appservice/custom.py,
``upload_zip_to_storage``) uploads the zip into the app's *own* storage account (the one
AzureWebJobsStorage names, container ``function-releases``), signs a blob SAS with read permission
from ten minutes ago to 520 weeks ahead with the account key, sets ``WEBSITE_RUN_FROM_PACKAGE`` to
that URL, then calls ``syncfunctiontriggers`` — an external package URL needs a trigger sync (Learn:
"Run your functions from a package file", and functions-deployment-technologies).

We do the same, with one choice made explicit: an **account-key service SAS**, not a user-delegation
SAS. A user-delegation key lives at most 7 days (Learn: "Create a user delegation SAS"), but the app
reads its package on every cold start for as long as it lives, so the URL must stay valid that long;
only a key-signed SAS can. The key is read from ARM inside the activity, used, and dropped; the SAS URL
is a secret too and lives only in the app's settings — never in a return value, a row or a log line.

The blob is named by deploy_ref and package hash, so publishing again is idempotent (the same bytes
are not uploaded twice) and a package changed under the same deploy_ref gets a new blob.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobSasPermissions, BlobServiceClient, ContentSettings, generate_blob_sas

from controlplane.arm import built_package, function_apps, storage_accounts
from controlplane.arm.clients import ArmClients
from controlplane.arm.linux_consumption import RUN_FROM_PACKAGE
from controlplane.arm.package_source import Package
from controlplane.domain.naming import TwinNames
from controlplane.settings import get_settings

logger = logging.getLogger(__name__)

RELEASES_CONTAINER = "function-releases"  # the CLI's container name
SAS_LIFETIME = timedelta(weeks=520)  # the CLI's: as long as the app may live
SAS_CLOCK_SKEW = timedelta(minutes=10)  # the CLI's start time, ten minutes back


@dataclass(frozen=True)
class Published:
    """What may be recorded about a publish: never the SAS."""

    blob: str
    uploaded: bool
    settings_changed: bool


def blob_name(names: TwinNames, deploy_ref: str, package: Package) -> str:
    return f"{names.app_name}/{deploy_ref}-{package.sha256[:16]}.zip"


def publish(clients: ArmClients, names: TwinNames, *, deploy_ref: str, package: Package) -> Published:
    """Upload (if new), point WEBSITE_RUN_FROM_PACKAGE at a read SAS (if it points elsewhere), sync triggers.

    The package runs as-is, so one that does not carry its dependencies is refused first (built_package).
    """
    built_package.require_built(package.file, deploy_ref=deploy_ref)
    name = blob_name(names, deploy_ref, package)
    with _releases_service(clients, names) as service:
        uploaded = _upload_once(service, name, package, deploy_ref)
        account_name, account_key = service.credential.account_name, service.credential.account_key
        now = datetime.now(UTC)
        sas = generate_blob_sas(
            account_name, RELEASES_CONTAINER, name, account_key=account_key,
            permission=BlobSasPermissions(read=True), start=now - SAS_CLOCK_SKEW, expiry=now + SAS_LIFETIME,
        )  # fmt: skip
        package_url = f"{service.get_blob_client(RELEASES_CONTAINER, name).url}?{sas}"

    settings = function_apps.current_app_settings(clients, names)
    changed = _without_query(settings.get(RUN_FROM_PACKAGE, "")) != _without_query(package_url)
    if changed:
        # The CLI's own sequence: read every setting, change one, write them all back.
        function_apps.update_app_settings(clients, names, {**settings, RUN_FROM_PACKAGE: package_url})
    function_apps.sync_triggers(clients, names)
    logger.info("published %s to %s (blob %s, uploaded=%s)", deploy_ref, names.app_name, name, uploaded)
    return Published(blob=name, uploaded=uploaded, settings_changed=changed)


def _releases_service(clients: ArmClients, names: TwinNames) -> BlobServiceClient:
    endpoints = storage_accounts.storage_endpoints(clients, names)
    key = storage_accounts.account_key(clients, names)
    sandbox = get_settings().sandbox_blob_connection
    if sandbox:
        # The offline sandbox: Azurite stands for every twin's account (the ARM stand-in has no blob
        # data plane). The endpoints and key were still read from ARM, so that the ARM requests a
        # publish sends, and the budget they are booked in, are Azure's.
        return BlobServiceClient.from_connection_string(sandbox)
    return BlobServiceClient(endpoints.blob, credential={"account_name": names.storage_account, "account_key": key})


def _upload_once(service: BlobServiceClient, name: str, package: Package, deploy_ref: str) -> bool:
    try:
        service.create_container(RELEASES_CONTAINER)
    except ResourceExistsError:
        pass
    blob = service.get_blob_client(RELEASES_CONTAINER, name)
    try:
        if (blob.get_blob_properties().metadata or {}).get("sha256") == package.sha256:
            return False
    except ResourceNotFoundError:
        pass
    package.file.seek(0)
    blob.upload_blob(
        package.file, length=package.size, overwrite=True,
        metadata={"sha256": package.sha256, "deploy_ref": deploy_ref},
        content_settings=ContentSettings(content_type="application/zip"),
    )  # fmt: skip
    return True


def _without_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
