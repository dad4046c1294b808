"""The contract a Linux Consumption package must meet: it carries its dependencies, already built.

Linux Consumption runs the zip ``WEBSITE_RUN_FROM_PACKAGE`` names as-is: nothing installs
``requirements.txt`` for an external package URL (Learn: functions-deployment-technologies, "Remote
build" is for zip deploy to the scm site and "External package URL" runs the package as given; the CLI's
``config-zip`` for Consumption uploads to storage with no build, azure-cli appservice/custom.py
``upload_zip_to_storage``). So the package for a deploy_ref is a *built* package, as ``func azure
functionapp publish --build local`` or ``pip install --target .python_packages/lib/site-packages -r
requirements.txt`` make it: every requirement installed under ``.python_packages/lib/site-packages``, where
the Python worker looks first. Learn ("Troubleshoot Python errors in Azure Functions", ModuleNotFoundError,
"The package can't be found"): "Browse to ``.python_packages/lib/site-packages/<package-name>``. If the
file path doesn't exist, this missing path is likely the root cause."

The check reads the package's ``requirements.txt`` (names parsed with ``packaging``, PEP 508) and its
installed distributions (``<name>-<version>.dist-info`` directories, names compared canonicalised as
PEP 503 says). A package that misses any is refused before it is published — a permanent failure that
names what is missing — rather than published to a twin that would answer its readiness probe with 404
until the readiness timeout. Flex twins take the same package with a remote build (One Deploy,
``RemoteBuild=true``), where Oryx installs ``requirements.txt`` itself.
"""

from __future__ import annotations

import zipfile
from typing import IO

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from controlplane.domain.step_errors import StepFailure

SITE_PACKAGES = ".python_packages/lib/site-packages/"
REQUIREMENTS = "requirements.txt"


def missing_dependencies(package: IO[bytes]) -> list[str]:
    """Requirements of ``requirements.txt`` with no installed distribution in the package (sorted)."""
    package.seek(0)
    try:
        with zipfile.ZipFile(package) as archive:
            names = archive.namelist()
            wanted = (
                _requirements(archive.read(REQUIREMENTS).decode("utf-8", "replace")) if REQUIREMENTS in names else set()
            )
    except zipfile.BadZipFile as exc:
        raise StepFailure("PackageInvalid", "the package is not a zip archive") from exc
    finally:
        package.seek(0)
    installed = {
        canonicalize_name(entry[len(SITE_PACKAGES) :].split("/", 1)[0].removesuffix(".dist-info").rsplit("-", 1)[0])
        for entry in names
        if entry.startswith(SITE_PACKAGES) and entry[len(SITE_PACKAGES) :].split("/", 1)[0].endswith(".dist-info")
    }
    return sorted(wanted - installed)


def require_built(package: IO[bytes], *, deploy_ref: str) -> None:
    missing = missing_dependencies(package)
    if missing:
        shown = ", ".join(missing[:10]) + (" …" if len(missing) > 10 else "")
        raise StepFailure(
            "PackageNotBuilt",
            f"the package for {deploy_ref} does not carry its dependencies under {SITE_PACKAGES} ({shown}); "
            "Linux Consumption runs a package as-is, so build it first "
            "(pip install --target .python_packages/lib/site-packages -r requirements.txt)",
        )


def _requirements(text: str) -> set[str]:
    wanted: set[str] = set()
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue  # comments and pip options (-r, -e, --index-url ...)
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue  # pip would refuse it at build time; nothing here can be installed for it
        if requirement.marker is None or requirement.marker.evaluate(
            {"sys_platform": "linux", "platform_system": "Linux"}
        ):
            wanted.add(canonicalize_name(requirement.name))
    return wanted
