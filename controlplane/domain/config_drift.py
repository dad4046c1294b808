"""Configuration drift: a twin that still exists but no longer is what the registry says it should be.

Three fields, each compared with what the registry holds (pure: no I/O, no clock):

- ``tags``: the group's tags against ``twin_tags`` (the list of tagged groups carries them: no call per twin);
- ``deploy_ref``: what the twin's own readiness route reports against the row's deploy_ref;
- ``app_settings``: the site's settings against the operator's env keys and the twin's own settings
  (reading them is a POST per twin, so they are sampled: ``settings_sample``).

Only names are ever reported, never a setting's value (env keys may be secrets).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import TypeVar

TAGS, DEPLOY_REF, APP_SETTINGS = "tags", "deploy_ref", "app_settings"
DRIFT_FIELDS = (APP_SETTINGS, DEPLOY_REF, TAGS)
Item = TypeVar("Item")


def tags_drift(expected: Mapping[str, str], actual: Mapping[str, str] | None) -> bool:
    """A tag we set is missing or changed (tags others add are theirs). Unknown tags (None) are no evidence."""
    if actual is None:
        return False
    lowered = {key.lower(): value for key, value in actual.items()}
    return any(lowered.get(key.lower()) != value for key, value in expected.items())


def deploy_ref_drift(expected: str, reported: str | None) -> bool:
    """The twin says it runs other code. No answer is no evidence (the heartbeat reports unreachable twins)."""
    return reported is not None and reported != expected


def settings_drift(expected: Mapping[str, str], actual: Mapping[str, str]) -> list[str]:
    """The names of settings we set that are missing or hold another value: names only, never values."""
    return sorted(name for name, value in expected.items() if actual.get(name) != value)


def settings_sample(items: Sequence[Item], *, per_run: int, run: int) -> list[Item]:
    """The ``per_run`` items whose turn it is in run ``run``: consecutive runs walk the whole sequence,
    so every twin's settings are read once every ``ceil(len(items) / per_run)`` runs."""
    if not items or per_run <= 0:
        return []
    if per_run >= len(items):
        return list(items)
    start = (run * per_run) % len(items)
    return [items[(start + i) % len(items)] for i in range(per_run)]


def drift_order(cloud_id: str) -> str:
    """A stable order that does not follow names, so one run's sample is not one owner's twins."""
    return hashlib.sha256(cloud_id.encode()).hexdigest()
