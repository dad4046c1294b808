"""Durable activities: the only functions that touch Azure (ARM, Table Storage, the twin's URL).

Each is idempotent, because Durable runs an activity at least once.
"""

import azure.durable_functions as df

blueprint = df.Blueprint()
