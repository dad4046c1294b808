"""Durable orchestrations: one module per twin lifecycle workflow (provision, teardown).

Orchestrators are deterministic generators: no I/O, no clocks, no random — every effect is an
activity, every wait a durable timer.
"""

from orchestrators.adoption import blueprint as adoption
from orchestrators.provision import blueprint as provision
from orchestrators.reconcile import blueprint as reconcile
from orchestrators.rollout import blueprint as rollout
from orchestrators.teardown import blueprint as teardown
from orchestrators.update import blueprint as update

blueprints = [provision, teardown, update, rollout, reconcile, adoption]
