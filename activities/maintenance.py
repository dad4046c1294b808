"""Hourly registry upkeep: recount the fleet and give back places nobody holds.

Row, owner copy, counts and capacity are separate writes (see controlplane.registry); a worker that
dies between them leaves a small, harmless inconsistency that this sweep repairs. It scans the
fleet once an hour, never on a request path.
"""

from __future__ import annotations

import logging

import azure.durable_functions as df
import azure.functions as func

from controlplane.registry import default_registry

logger = logging.getLogger(__name__)
blueprint = df.Blueprint()


@blueprint.timer_trigger(schedule="0 17 * * * *", arg_name="timer", run_on_startup=False)
def reconcile_registry(timer: func.TimerRequest) -> None:
    fixed = default_registry().reconcile()
    logger.info("registry reconciled: %(rows)d rows, %(slots_fixed)d capacity slots corrected", fixed)
