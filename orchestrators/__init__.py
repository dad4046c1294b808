"""Durable orchestrations: one module per twin lifecycle workflow (provision, teardown).

Orchestrators are deterministic generators: no I/O, no clocks, no random — every effect is an
activity, every wait a durable timer.
"""

import azure.durable_functions as df

blueprint = df.Blueprint()
