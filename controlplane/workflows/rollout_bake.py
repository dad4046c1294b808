"""A wave's bake: its updated twins probed page by page, and the error-rate query over the bake window.

A bake round walks the wave's ``succeeded`` twins in cloud_id order, a page per activity (so no
activity's work, and no execution's history, grows with the wave), and probes each twin's readiness
route side by side. A twin that answered when it was updated and now leaves ``unanswered_probes``
probes in a row unanswered (or answers that it runs another version) is moved to ``bake_failed``:
its wave's ``failed`` counter grows, and the rollout's failure gate judges the wave again.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from controlplane.domain.errors import ControlPlaneError
from controlplane.domain.lifecycle import Status
from controlplane.domain.naming import twin_names
from controlplane.domain.rollouts import RolloutSpec
from controlplane.monitor.logs_query import error_rate
from controlplane.registry import TwinRegistry
from controlplane.settings import Settings
from controlplane.twins.probe import ProbeAnswer, probe

logger = logging.getLogger(__name__)
BAKE_PAGE = 500
_PROBES_AT_ONCE = 32
PROBE_TIMEOUT_SECONDS = 10.0


def probe_page(
    spec: RolloutSpec, wave: int, after: str | None, registry: TwinRegistry, settings: Settings
) -> dict[str, Any]:
    """Probe the next page of the wave's updated twins; where the round goes on (``next``) and how many failed."""
    twins = registry.rollouts.twins_page(spec.rollout_id, wave=wave, state="succeeded", after=after, limit=BAKE_PAGE)
    with ThreadPoolExecutor(_PROBES_AT_ONCE) as executor:
        answers = list(executor.map(lambda twin: _ask(twin["cloud_id"], registry, settings), twins))
    failed = 0
    for twin, answer in zip(twins, answers, strict=True):
        if answer is None:  # the twin left the rollout's hands (deleted, or updated since): nothing to judge
            continue
        if _answered(answer, spec.deploy_ref):
            if twin["bake_misses"]:
                registry.rollouts.set_fields(spec.rollout_id, twin["cloud_id"], bake_misses=0)
            continue
        misses = twin["bake_misses"] + 1
        if misses < spec.gates.unanswered_probes:
            registry.rollouts.set_fields(spec.rollout_id, twin["cloud_id"], bake_misses=misses)
            continue
        why = f"{misses} readiness probes in a row unanswered during the bake (last: {answer.status or answer.reason})"
        error = {"step": "bake", "code": "BakeUnanswered", "message": why}
        if registry.rollouts.record_twin(
            spec.rollout_id, wave, twin["cloud_id"], "bake_failed", bake_failed=True, bake_misses=misses, error=error
        ):
            failed += 1
            logger.warning("rollout %s wave %d: %s failed its bake: %s", spec.rollout_id, wave, twin["cloud_id"], why)
    last = twins[-1]["cloud_id"] if len(twins) == BAKE_PAGE else None
    return {"next": last, "probed": len(twins), "failed": failed}


def _ask(cloud_id: str, registry: TwinRegistry, settings: Settings) -> ProbeAnswer | None:
    try:
        row = registry.get(cloud_id)
    except ControlPlaneError:
        return None
    if row.status not in (Status.ACTIVE, Status.UPDATING):
        return None
    return probe(settings.readiness_url(twin_names(row.name)), timeout=PROBE_TIMEOUT_SECONDS)


def _answered(answer: ProbeAnswer, deploy_ref: str | None) -> bool:
    """A 2xx that does not say it runs another version than the rollout's."""
    return answer.ok and (deploy_ref is None or answer.deploy_ref in (None, deploy_ref))


def judge_error_rate(spec: RolloutSpec, since: str, until: str, settings: Settings) -> dict[str, Any]:
    """The error-rate gate over [since, until]: passed, the rate, and why it failed (fails closed)."""
    gate = spec.gates.error_rate
    if gate is None:
        return {"passed": True, "rate": None, "reason": ""}
    rate = error_rate(gate, datetime.fromisoformat(since), datetime.fromisoformat(until), settings)
    if rate.value is None:
        return {"passed": False, "rate": None, "reason": f"error-rate gate: {rate.reason}"}
    passed = rate.value <= gate.threshold
    reason = "" if passed else f"error rate {rate.value:.4f} over the threshold {gate.threshold:.4f}"
    return {"passed": passed, "rate": rate.value, "reason": reason}
