"""Durable activities: the only functions that touch Azure (ARM, Table Storage, the twin's URL).

Each is idempotent, because Durable runs an activity at least once.
"""

from activities.adoption import blueprint as adoption
from activities.budget import blueprint as budget
from activities.code import blueprint as code
from activities.events import blueprint as events
from activities.maintenance import blueprint as maintenance
from activities.provisioning import blueprint as provisioning
from activities.reconcile import blueprint as reconciling
from activities.rollouts import blueprint as rollouts
from activities.teardown import blueprint as teardown
from activities.updating import blueprint as updating

blueprints = [provisioning, code, teardown, maintenance, updating, rollouts, budget, events, reconciling, adoption]
