"""Durable orchestrations: one module per twin lifecycle workflow (provision, update, teardown,
adoption) and per fleet workflow (rollout, reconcile), beside their step helpers (``steps``,
``retries``, ``events``, ``publishing``, ``rollout_gates``).

Orchestrators are deterministic generators: no I/O, no clocks, no random — every effect is an
activity, every wait a durable timer. They import only the domain and each other (checked by
``lint-imports``); activities are scheduled by name, never imported.
"""

from orchestrators.adoption import blueprint as adoption
from orchestrators.provision import blueprint as provision
from orchestrators.reconcile import blueprint as reconcile
from orchestrators.rollout import blueprint as rollout
from orchestrators.teardown import blueprint as teardown
from orchestrators.update import blueprint as update

blueprints = [provision, teardown, update, rollout, reconcile, adoption]
