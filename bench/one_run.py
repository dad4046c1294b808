"""One figure of ``make bench`` alone, for tuning: ``python -m bench.one_run throughput 1 950 [fleet|process]``
or ``python -m bench.one_run rollout 4 1000``. Prints the figure's JSON; writes no results file."""

from __future__ import annotations

import json
import os
import sys

from bench.rollouts import rollout_throughput
from bench.run import throughput
from sandbox.azurite import start_azurite


def main(argv: list[str]) -> int:
    kind, subscriptions, twins = argv[0], int(argv[1]), int(argv[2])
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    azurite = start_azurite()
    try:
        if kind == "throughput":
            budget = argv[3] if len(argv) > 3 else "fleet"
            result = throughput(azurite.connection_string, subscriptions, twins, budget=budget)
        else:
            result = rollout_throughput(azurite.connection_string, subscriptions, twins)
    finally:
        azurite.stop()
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":  # worker processes re-import this module (spawn): run only when asked
    sys.exit(main(sys.argv[1:]))
