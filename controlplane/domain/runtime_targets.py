"""The catalog of runtime targets a twin may ask for: names, hosting kinds, Python versions.

A pure domain idea: request validation and list filters need it, and neither should import the ARM
adapters to reach it. How a target's plan and site are *built* lives in ``controlplane.arm``
(one builder per kind, keyed by ``HostingKind``).

Which Python versions each kind offers comes from Microsoft's documentation:

* Linux Consumption "isn't getting any new features or language versions" (Learn: Azure Functions
  runtime versions overview, functions-versions, Python pivot) and retires on 30 Sept 2028; it stays
  on Python 3.11, what ``provision-twin-lite.sh`` creates.
* Flex Consumption runs Python 3.10-3.12 (Learn: flex-consumption-plan, "Supported language stack
  versions") and 3.13 (Learn: supported-languages, Python 3.13 GA; Flex is where new language
  versions land). The control plane itself runs on Flex with Python 3.13.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from controlplane.domain.errors import InvalidInput


class HostingKind(StrEnum):
    LINUX_CONSUMPTION = "linux-consumption"  # Y1 / Dynamic
    FLEX_CONSUMPTION = "flex-consumption"  # FC1 / FlexConsumption


@dataclass(frozen=True)
class RuntimeTargetSpec:
    name: str
    kind: HostingKind
    python_version: str


CATALOG: dict[str, RuntimeTargetSpec] = {
    spec.name: spec
    for spec in (
        RuntimeTargetSpec("azure-consumption-py311", HostingKind.LINUX_CONSUMPTION, "3.11"),
        RuntimeTargetSpec("azure-flex-py311", HostingKind.FLEX_CONSUMPTION, "3.11"),
        RuntimeTargetSpec("azure-flex-py312", HostingKind.FLEX_CONSUMPTION, "3.12"),
        RuntimeTargetSpec("azure-flex-py313", HostingKind.FLEX_CONSUMPTION, "3.13"),
    )
}


def target_spec(name: object) -> RuntimeTargetSpec:
    """The catalog entry for ``name``; InvalidInput naming the choices when there is none."""
    if not isinstance(name, str) or name not in CATALOG:
        raise InvalidInput("runtime_target", f"runtime_target must be one of: {', '.join(sorted(CATALOG))}")
    return CATALOG[name]


def target_of_site(linux_fx_version: str | None, flex_runtime: tuple[str, str] | None) -> RuntimeTargetSpec | None:
    """The catalog target an existing site runs, from what ARM reports of it; None when none matches.

    Flex sites name their runtime in ``functionAppConfig.runtime`` (name, version); Linux Consumption
    sites in ``siteConfig.linuxFxVersion`` (``Python|3.11``, case as the caller wrote it)."""
    if flex_runtime is not None:
        name, version = flex_runtime
        kind = HostingKind.FLEX_CONSUMPTION
    elif linux_fx_version and "|" in linux_fx_version:
        name, version = linux_fx_version.split("|", 1)
        kind = HostingKind.LINUX_CONSUMPTION
    else:
        return None
    if name.lower() != "python":
        return None
    return next((s for s in CATALOG.values() if s.kind == kind and s.python_version == version.strip()), None)
