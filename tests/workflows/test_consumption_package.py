"""Linux Consumption runs its package as-is, so a package must arrive built (controlplane/arm/built_package.py).

The brainstem host stand-in loads an unbuilt package the way the Python worker would and never turns
ready (sandbox/python_imports.py); the product refuses such a package before publishing it, with a
permanent error naming what is missing. The same package still reaches a Flex twin, whose One Deploy
asks for a remote build.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

import pytest
import requests

from controlplane.arm.built_package import missing_dependencies
from controlplane.domain.durable_names import Activity
from controlplane.registry import default_registry
from sandbox.arm import ArmStandIn
from sandbox.brainstems import BrainstemHosts
from sandbox.packages import PackageServer, brainstem_package
from sandbox.rig import ControlPlaneRig
from tests.sandbox.test_arm_standin import GROUP, clients_for, plan_body, site_body
from tests.workflows.twin_jobs import provision

KODY = "twin-kody-e89834"
USES_REQUESTS = {
    "function_app.py": "import requests\n\nimport azure.functions as func\n\napp = func.FunctionApp()\n",
    "requirements.txt": "azure-functions\nrequests>=2.31  # HTTP client\n",
}
REQUESTS_BUILT = {
    ".python_packages/lib/site-packages/requests/__init__.py": "",
    ".python_packages/lib/site-packages/requests-2.32.3.dist-info/METADATA": "Name: requests\n",
}


def _zip(files: dict[str, str]) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    buffer.seek(0)
    return buffer


@pytest.mark.parametrize(
    ("files", "missing"),
    [
        pytest.param({"requirements.txt": "requests\n"}, ["requests"], id="nothing-installed"),
        pytest.param(
            {
                "requirements.txt": "Azure_Functions==2.3.0\n",
                ".python_packages/lib/site-packages/azure_functions-2.3.0.dist-info/METADATA": "",
            },
            [],
            id="names-compared-canonically",
        ),
        pytest.param(
            {
                "requirements.txt": "# deps\n-r other.txt\n--index-url https://x\npywin32; sys_platform == 'win32'\nPyYAML\n"
            },
            ["pyyaml"],
            id="comments-options-and-windows-only-skipped",
        ),
        pytest.param({"function_app.py": ""}, [], id="no-requirements-no-dependencies"),
    ],
)
def test_the_contract_reads_requirements_against_installed_distributions(
    files: dict[str, str], missing: list[str]
) -> None:
    assert missing_dependencies(_zip(files)) == missing


def _host_answer(package: bytes, logs: dict[str, str] | None = None) -> requests.Response:
    """The readiness route of a Linux Consumption site running ``package`` from its URL (``logs`` gets the
    host's indexing errors)."""
    with ArmStandIn() as arm, PackageServer() as store:
        store.packages["r1"] = package
        hosts = BrainstemHosts(platform=arm.platform).start()
        try:
            clients = clients_for(arm)
            clients.resources.resource_groups.create_or_update(GROUP, {"location": "eastus2"})
            plan = clients.web.app_service_plans.begin_create_or_update(GROUP, "plan-twin-0001", plan_body()).result()
            url = store.url_template.format(deploy_ref="r1")
            clients.web.web_apps.begin_create_or_update(
                GROUP, "fa-twin-0001", site_body(plan.id, {"WEBSITE_RUN_FROM_PACKAGE": url})
            ).result()
            answer = requests.get(hosts.url_template.format(app_name="fa-twin-0001") + "api/health", timeout=5)
            if logs is not None:
                logs.update(hosts.indexing_errors)
            return answer
        finally:
            hosts.stop()


def test_the_host_stand_in_never_turns_ready_on_a_package_whose_imports_are_missing() -> None:
    # The worker cannot index the app, so the host runs with no functions: the readiness route is no
    # route (404), and the ModuleNotFoundError is in the host's log (sandbox/brainstems.py,
    # _no_functions_indexed, from the Python worker's and the host's source).
    logs: dict[str, str] = {}
    unbuilt = _host_answer(brainstem_package("r1", built=False, extra_files=USES_REQUESTS), logs)
    assert unbuilt.status_code == 404
    assert logs == {
        "fa-twin-0001": "Worker failed to index functions: Exception: ModuleNotFoundError: No module named 'requests'."
    }
    built_logs: dict[str, str] = {}
    built = _host_answer(brainstem_package("r1", extra_files={**USES_REQUESTS, **REQUESTS_BUILT}), built_logs)
    assert built.status_code == 200 and built.json()["deploy_ref"] == "r1"
    assert built_logs == {}


def test_the_host_stand_in_reads_imports_not_requirements() -> None:
    # The worker itself provides azure.functions, and the standard library is there: an entry point that
    # needs nothing else starts from an unbuilt package (the product's contract is the stricter of the two).
    answer = _host_answer(brainstem_package("r1", built=False))
    assert answer.status_code == 200


def test_the_product_refuses_an_unbuilt_package_for_consumption_and_publishes_nothing(
    make_rig: Callable[..., ControlPlaneRig],
) -> None:
    rig = make_rig()
    rig.packages.packages["abc123"] = brainstem_package("abc123", built=False, extra_files=USES_REQUESTS)
    result = provision(rig, "kody")
    assert result.status == "Failed"
    error = default_registry().get(KODY).error
    assert error is not None
    assert (error["step"], error["code"], error["transient"]) == ("publish", "PackageNotBuilt", False)
    assert "azure-functions, requests" in error["message"] and ".python_packages/lib/site-packages/" in error["message"]
    assert len(rig.driver.executions(Activity.PUBLISH_CODE)) == 1  # type: ignore[union-attr]  # permanent: not retried
    settings = [d for rid, d in rig.arm.resources.items() if rid.lower().endswith(f"{KODY}/config/appsettings")]
    assert "WEBSITE_RUN_FROM_PACKAGE" not in settings[0]["properties"]


def test_the_same_unbuilt_package_reaches_a_flex_twin_which_builds_remotely(
    make_rig: Callable[..., ControlPlaneRig],
) -> None:
    rig = make_rig()
    rig.packages.packages["abc123"] = brainstem_package("abc123", built=False)
    assert provision(rig, "kody", runtime_target="azure-flex-py313").status == "Completed"
    [deployment] = rig.scm.deployments.values()  # type: ignore[union-attr]
    assert deployment.remote_build
