"""A loopback HTTPS stand-in for Azure Resource Manager, for tests and benchmarks; never deployed.

The product provisions per-twin resources through the real azure-mgmt-* clients. Mocking those
clients would test our guesses about them; this package instead answers the clients on the wire,
the way ARM does — status codes, long-running operations (202 + Location + Retry-After), error
bodies, idempotent PUTs, global names, throttling — so the adapters run unchanged against it::

    with ArmStandIn() as arm:
        client = StorageManagementClient(credential, subscription, base_url=arm.base_url,
                                         credential_scopes=["https://management.azure.com/.default"],
                                         connection_verify=arm.ca_path, polling_interval=0)
        arm.inject(Fault(route="storage_accounts.create", kind="429", times=2, retry_after=1))
        ...
        assert [r.status for r in arm.requests] == [...]

Route names (for ``RecordedRequest.route`` and ``Fault.route``) are listed in ``routing.ROUTE_NAMES``.
"""

from .faults import Fault, Gate
from .messages import ArmError, RecordedRequest
from .routing import ROUTE_NAMES
from .server import ArmStandIn
from .throttle import Throttle

__all__ = ["ArmError", "ArmStandIn", "Fault", "Gate", "ROUTE_NAMES", "RecordedRequest", "Throttle"]
