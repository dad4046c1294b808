"""From a runtime target (the domain's catalog) to the ARM code that builds and publishes it.

The catalog of targets — names, hosting kinds, Python versions — is a domain idea
(``controlplane.domain.runtime_targets``); this module only maps a target to its builder. Adding a
target of an existing kind is one catalog entry; a new hosting kind adds one builder module here.
"""

from __future__ import annotations

from controlplane.arm.build import AppBuilder
from controlplane.arm.flex_consumption import FlexConsumption
from controlplane.arm.linux_consumption import LinuxConsumption
from controlplane.domain.runtime_targets import HostingKind, RuntimeTargetSpec


def builder_for(spec: RuntimeTargetSpec) -> AppBuilder:
    if spec.kind == HostingKind.FLEX_CONSUMPTION:
        return FlexConsumption(spec.python_version)
    return LinuxConsumption(spec.python_version)


def uses_shared_key(spec: RuntimeTargetSpec) -> bool:
    """Whether the twin's storage account must accept its key (Linux Consumption's AzureWebJobsStorage and SAS)."""
    return spec.kind == HostingKind.LINUX_CONSUMPTION
