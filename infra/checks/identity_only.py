"""checkov checks for what checkov lacks (`make iac-lint` loads them with --external-checks-dir).

The control plane reaches everything with its managed identity: no account key, no instrumentation
key, no role assignment that could be misread. Built-in checkov checks cover networking and
logging, not these.
"""

from __future__ import annotations

from typing import Any

from checkov.bicep.checks.resource.base_resource_check import BaseResourceCheck
from checkov.common.models.enums import CheckCategories, CheckResult


def _properties(conf: dict[str, Any]) -> dict[str, Any]:
    if "loop_type" in conf:  # `[for x in xs: {...}]`: the resource's own body is inside
        conf = conf.get("config") or {}
    properties = conf.get("properties")
    return properties if isinstance(properties, dict) else {}


class StorageSharedKeyAccessDisabled(BaseResourceCheck):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__(
            name="Storage accounts refuse shared-key (account key and SAS) authorization",
            id="CKV_TWIN_1",
            categories=(CheckCategories.IAM,),
            supported_resources=("Microsoft.Storage/storageAccounts",),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["properties/allowSharedKeyAccess"]
        return CheckResult.PASSED if _properties(conf).get("allowSharedKeyAccess") is False else CheckResult.FAILED


class ApplicationInsightsLocalAuthDisabled(BaseResourceCheck):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__(
            name="Application Insights accepts only Entra-authenticated telemetry (DisableLocalAuth)",
            id="CKV_TWIN_2",
            categories=(CheckCategories.IAM,),
            supported_resources=("Microsoft.Insights/components",),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        return CheckResult.PASSED if _properties(conf).get("DisableLocalAuth") is True else CheckResult.FAILED


class LogAnalyticsLocalAuthDisabled(BaseResourceCheck):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__(
            name="Log Analytics accepts only Entra (features.disableLocalAuth)",
            id="CKV_TWIN_4",
            categories=(CheckCategories.IAM,),
            supported_resources=("Microsoft.OperationalInsights/workspaces",),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        features = _properties(conf).get("features")
        disabled = isinstance(features, dict) and features.get("disableLocalAuth") is True
        return CheckResult.PASSED if disabled else CheckResult.FAILED


class RoleAssignmentNamesItsPrincipalType(BaseResourceCheck):  # type: ignore[misc]
    """Learn (role-based-access-control/role-assignments-template): set principalType for a principal
    made in the same deployment, or the assignment can fail while Entra replicates it."""

    def __init__(self) -> None:
        super().__init__(
            name="Role assignments name their principalType",
            id="CKV_TWIN_3",
            categories=(CheckCategories.IAM,),
            supported_resources=("Microsoft.Authorization/roleAssignments",),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        return CheckResult.PASSED if _properties(conf).get("principalType") else CheckResult.FAILED


storage_shared_key = StorageSharedKeyAccessDisabled()
application_insights_local_auth = ApplicationInsightsLocalAuthDisabled()
log_analytics_local_auth = LogAnalyticsLocalAuthDisabled()
role_assignment_principal_type = RoleAssignmentNamesItsPrincipalType()
