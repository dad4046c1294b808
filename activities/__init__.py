"""Durable activities: the only functions that touch Azure (ARM, Table Storage, the twin's URL).

Each is idempotent, because Durable runs an activity at least once.
"""

from activities.code import blueprint as code
from activities.maintenance import blueprint as maintenance
from activities.provisioning import blueprint as provisioning
from activities.teardown import blueprint as teardown

blueprints = [provisioning, code, teardown, maintenance]
