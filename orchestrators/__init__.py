"""Durable orchestrations: one module per twin lifecycle workflow (provision, teardown).

Orchestrators are deterministic generators: no I/O, no clocks, no random — every effect is an
activity, every wait a durable timer.
"""

from orchestrators.provision import blueprint as provision
from orchestrators.teardown import blueprint as teardown

blueprints = [provision, teardown]
