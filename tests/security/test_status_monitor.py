"""A client we did not write (azure-core's LROPoller) follows a create to its end with an owner's token."""

from __future__ import annotations

from typing import Any

from azure.core import PipelineClient
from azure.core.pipeline import PipelineResponse
from azure.core.pipeline.policies import HeadersPolicy, RequestIdPolicy, RetryPolicy
from azure.core.polling import LROPoller
from azure.core.polling.base_polling import LocationPolling, LROBasePolling
from azure.core.rest import HttpRequest

from sandbox.rig import ControlPlaneRig
from tests.api.identity_provider import IdentityProvider


def test_azure_cores_lro_poller_follows_a_create_to_its_end(
    served: tuple[ControlPlaneRig, str], idp: IdentityProvider
) -> None:
    _, base = served
    client: PipelineClient[Any, Any] = PipelineClient(
        base, policies=[RequestIdPolicy(), HeadersPolicy(idp.bearer("alice")), RetryPolicy(retry_total=0)]
    )
    request = HttpRequest("POST", f"{base}/api/cp/brainstems", json={"name": "kody"})
    initial: PipelineResponse[Any, Any] = client._pipeline.run(request)
    assert initial.http_response.status_code == 202

    def final(response: PipelineResponse[Any, Any]) -> dict[str, Any]:
        return dict(response.http_response.json())

    # Location polling: 202 while the job runs (honouring Retry-After), 200 when it has ended.
    poller = LROPoller(client, initial, final, LROBasePolling(timeout=1, lro_algorithms=[LocationPolling()]))
    job = poller.result(timeout=120)
    assert poller.status() == "Succeeded"
    assert (job["kind"], job["runtime_status"], job["output"]["status"]) == ("provision", "Completed", "active")
