"""Code for Flex Consumption brainstems: the package for a deploy_ref, published into the app's own container.

A Flex app runs the package found in its deployment container (``functionAppConfig.deployment``);
there is no ``WEBSITE_RUN_FROM_PACKAGE`` URL. So the control plane fetches the package for a
deploy_ref from ``CP_PACKAGE_URL_TEMPLATE`` and uploads it as ``released-package.zip`` (the blob
name the platform's own One Deploy writes) into the twin's container.

On Azure the upload reaches the twin's own account with the control plane's identity
(DefaultAzureCredential): that identity needs *Storage Blob Data Contributor* on the twins'
storage accounts — assign it once at subscription scope, since each twin's account is new and a
fresh assignment can take minutes to apply. No account key is read or used. In the sandbox,
``CP_FLEX_SANDBOX_BLOB_CONNECTION`` (loopback only) sends the bytes to Azurite instead.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

import requests
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobServiceClient, ContentSettings

from controlplane.domain.step_errors import StepFailure
from controlplane.settings import get_settings

logger = logging.getLogger(__name__)

PACKAGE_BLOB = "released-package.zip"
FETCH_TIMEOUT_SECONDS = 60
MAX_PACKAGE_BYTES = 1024 * 1024 * 1024
_IN_MEMORY_BYTES = 32 * 1024 * 1024  # larger packages spill to a temporary file
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Package:
    file: IO[bytes]
    size: int
    sha256: str


@contextmanager
def fetch_package(url: str) -> Iterator[Package]:
    """Download the package at ``url``, hashing it on the way. The URL is never logged (it may hold a SAS)."""
    try:
        response = requests.get(url, stream=True, timeout=FETCH_TIMEOUT_SECONDS, allow_redirects=True)
    except requests.RequestException as exc:
        raise StepFailure(
            "PackageUnreachable", f"the package server did not answer ({type(exc).__name__})", transient=True
        ) from exc
    with response, tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY_BYTES) as spool:
        if response.status_code != 200:
            transient = response.status_code in (408, 429) or response.status_code >= 500
            code = "PackageNotFound" if response.status_code == 404 else "PackageUnavailable"
            raise StepFailure(
                code,
                f"the package server answered {response.status_code}",
                status=response.status_code,
                transient=transient,
            )
        digest = hashlib.sha256()
        size = 0
        try:
            for chunk in response.iter_content(_CHUNK):
                size += len(chunk)
                if size > MAX_PACKAGE_BYTES:
                    raise StepFailure("PackageTooLarge", f"the package is larger than {MAX_PACKAGE_BYTES} bytes")
                digest.update(chunk)
                spool.write(chunk)
        except requests.RequestException as exc:
            raise StepFailure(
                "PackageUnreachable", f"the package download broke off ({type(exc).__name__})", transient=True
            ) from exc
        spool.seek(0)
        yield Package(file=spool, size=size, sha256=digest.hexdigest())


def publish_package(package: Package, *, blob_endpoint: str, container: str, deploy_ref: str) -> bool:
    """Upload ``package`` as the container's released-package.zip; False when that exact package is there already."""
    sandbox = get_settings().flex_sandbox_blob_connection
    service = (
        BlobServiceClient.from_connection_string(sandbox)
        if sandbox
        else BlobServiceClient(blob_endpoint, credential=_identity())
    )
    with service:
        if sandbox:
            # ARM created the container in the stand-in, which does not reach Azurite: make it there too.
            try:
                service.create_container(container)
            except ResourceExistsError:
                pass
        blob = service.get_blob_client(container, PACKAGE_BLOB)
        try:
            if (blob.get_blob_properties().metadata or {}).get("sha256") == package.sha256:
                logger.info("package %s (sha256 %s) already in %s", deploy_ref, package.sha256, container)
                return False
        except ResourceNotFoundError:
            pass
        package.file.seek(0)
        blob.upload_blob(
            package.file,
            length=package.size,
            overwrite=True,
            metadata={"sha256": package.sha256, "deploy_ref": deploy_ref},
            content_settings=ContentSettings(content_type="application/zip"),
        )
        logger.info(
            "published package %s (sha256 %s, %d bytes) to %s", deploy_ref, package.sha256, package.size, container
        )
        return True


@functools.lru_cache(maxsize=1)
def _identity():  # type: ignore[no-untyped-def]
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()
