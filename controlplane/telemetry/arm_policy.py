"""Counts ARM's 429 answers, per attempt, so an operator sees throttling that azure-core retried away."""

from __future__ import annotations

from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import SansIOHTTPPolicy

from controlplane.telemetry import metrics


class ThrottleCounter(SansIOHTTPPolicy):  # type: ignore[type-arg]
    def __init__(self, subscription_id: str) -> None:
        self.subscription_id = subscription_id

    def on_response(self, request: PipelineRequest, response: PipelineResponse) -> None:  # type: ignore[type-arg]
        if response.http_response.status_code == 429:
            metrics.arm_throttled.add(
                1, {"subscription_id": self.subscription_id, "method": request.http_request.method.upper()}
            )
