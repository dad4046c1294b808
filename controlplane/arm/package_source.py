"""The package for a deploy_ref: fetched from ``CP_PACKAGE_URL_TEMPLATE``, size-capped and hashed.

Both ways of publishing code (run-from-package for Linux Consumption, One Deploy for Flex) start
from these bytes. The sha256 is what makes publishing idempotent: the same package is recognised
wherever it already is, and a package changed under the same deploy_ref is not mistaken for the old one.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

import requests

from controlplane.domain.step_errors import StepFailure

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
