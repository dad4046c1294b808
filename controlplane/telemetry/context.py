"""The ids one unit of work is about (job, brainstem, owner, subscription, step), for spans and logs.

They live in a ContextVar so every log line written while handling a request or running an
activity carries them, whichever module writes it, without passing them around. Only these plain
ids are recorded: never a key, a token or a request body.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any

from opentelemetry import trace

ID_NAMES = ("job_id", "cloud_id", "owner", "subscription_id", "step")
_ids: ContextVar[dict[str, str]] = ContextVar("controlplane_ids", default={})  # noqa: B039 - never mutated


def current_ids() -> dict[str, str]:
    return dict(_ids.get())


def annotate(**ids: Any) -> None:
    """Add ids (those of ``ID_NAMES`` only, None skipped) to this context and to the current span."""
    known = {name: str(value) for name, value in ids.items() if name in ID_NAMES and value is not None}
    if not known:
        return
    _ids.set({**_ids.get(), **known})
    trace.get_current_span().set_attributes(known)


def reset_ids() -> object:
    """Start a unit of work with no ids; returns the token to hand back to ``restore_ids``."""
    return _ids.set({})


def restore_ids(token: object) -> None:
    _ids.reset(token)  # type: ignore[arg-type]


_installed = {"done": False}


def install_log_ids() -> None:
    """Every log record made from now on carries the current ids as attributes (which the Azure
    Monitor log exporter sends as custom dimensions). A record factory, not a handler filter, so
    handlers added later (the worker's, the distro's) get them too. Idempotent."""
    if _installed["done"]:
        return
    make_record = logging.getLogRecordFactory()

    def with_ids(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        for name, value in _ids.get().items():
            setattr(record, name, value)
        return record

    logging.setLogRecordFactory(with_ids)
    _installed["done"] = True
