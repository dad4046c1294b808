"""Reading the settings: once per process, with a message that names every setting to fix."""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping

from pydantic import ValidationError

from controlplane.domain.errors import SettingsError
from controlplane.settings.model import Settings


def _alias(field_name: str) -> str:
    alias = Settings.model_fields[field_name].validation_alias
    choices = getattr(alias, "choices", None) or [field_name]
    return " or ".join(str(c) for c in choices)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from ``environ`` (default: the process environment); raise SettingsError naming what to fix."""
    source = dict(os.environ if environ is None else environ)
    try:
        return Settings.model_validate(source)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "?"
            name = _alias(field) if field in Settings.model_fields else field
            reason = "is required" if error["type"] == "missing" else error["msg"].removeprefix("Value error, ")
            problems.append(f"{name} {reason}")
        first = problems[0].split(" ", 1)[0]
        raise SettingsError("invalid app settings: " + "; ".join(problems), setting=first) from None


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read on first use."""
    return load_settings()
