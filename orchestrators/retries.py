"""How an orchestration retries an activity: exponential backoff from the job's policy.

Its own module (not orchestrators.steps) because both the steps and the lifecycle events
(orchestrators.events) retry activities, and the steps emit events: one module each way, no cycle.
"""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df

from controlplane.domain.jobs import Policy


class BackoffRetryOptions(df.RetryOptions):  # type: ignore[misc]  # the SDK is untyped
    """RetryOptions with exponential backoff.

    The Python SDK's RetryOptions serialises only the first interval and the attempt count; the
    Durable extension also reads backoffCoefficient and maxRetryIntervalInMilliseconds (as the
    JavaScript SDK sends them), so we add them to the action it is given.
    """

    def __init__(
        self, first_retry_ms: int, max_attempts: int, *, coefficient: float = 2.0, max_retry_ms: int = 300_000
    ):
        super().__init__(first_retry_ms, max_attempts)
        self.backoff_coefficient = coefficient
        self.max_retry_interval_in_milliseconds = max_retry_ms

    def to_json(self) -> dict[str, Any]:
        return {
            **super().to_json(),
            "backoffCoefficient": self.backoff_coefficient,
            "maxRetryIntervalInMilliseconds": self.max_retry_interval_in_milliseconds,
        }


def retry_options(policy: Policy) -> BackoffRetryOptions:
    return BackoffRetryOptions(max(1, int(policy.first_retry_seconds * 1000)), policy.max_attempts)
