"""One separate process reserving from the shared budget: an instance with its own in-process state."""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from azure.data.tables import TableServiceClient

from controlplane.arm.fleet_budget import BudgetPolicy, FleetWriteBudget
from controlplane.domain.write_budget import BucketShape
from controlplane.registry.arm_budget import BudgetStore


def main() -> int:
    connection, table, subscription, count, block = sys.argv[1:6]
    client = TableServiceClient.from_connection_string(connection).get_table_client(table)
    store = BudgetStore(client)
    policy = BudgetPolicy(
        shapes={"writes": BucketShape(rate=20, burst=10), "deletes": BucketShape(rate=20, burst=10)},
        horizons={"interactive": 3600, "bulk": 3600, "deletes": 3600},
        block=int(block),
        grace=3600,
    )
    budget = FleetWriteBudget(store, policy)
    with ThreadPoolExecutor(8) as pool:
        grants = list(pool.map(lambda _: budget.reserve(subscription, "interactive", 1), range(int(count))))
    leftover = sum(lease.tokens for lease in budget._leases.values())  # what this instance would lose if it died
    json.dump({"starts": [g.not_before for g in grants], "operations": store.operations, "leftover": leftover,
               "finished": time.time()}, sys.stdout)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
