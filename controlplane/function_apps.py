"""Function Apps: the plan and the site a brainstem runs in, built by its runtime target."""

from __future__ import annotations

from controlplane.arm_clients import ArmClients
from controlplane.naming import TwinNames
from controlplane.runtime_targets import LinuxConsumption

CREATE_WAIT_SECONDS = 240


def ensure_function_app(
    clients: ArmClients,
    names: TwinNames,
    target: LinuxConsumption,
    *,
    region: str,
    tags: dict[str, str],
    app_settings: dict[str, str],
) -> str:
    """Create or update the plan and the site (both PUTs are idempotent); return the site's host name."""
    plan_poller = clients.web.app_service_plans.begin_create_or_update(
        names.resource_group, names.plan_name, target.plan_body(names, region=region, tags=tags)
    )
    plan = _finish(plan_poller, f"plan {names.plan_name}")
    site_poller = clients.web.web_apps.begin_create_or_update(
        names.resource_group,
        names.app_name,
        target.site_body(names, region=region, tags=tags, plan_id=str(plan.id), app_settings=app_settings),
    )
    site = _finish(site_poller, f"site {names.app_name}")
    return str(site.properties.default_host_name or names.default_host_name) if site.properties else names.default_host_name


def _finish(poller, what: str):  # type: ignore[no-untyped-def]
    poller.wait(CREATE_WAIT_SECONDS)
    if not poller.done():
        raise TimeoutError(f"{what} still creating after {CREATE_WAIT_SECONDS}s")
    return poller.result()
