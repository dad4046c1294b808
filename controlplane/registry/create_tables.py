"""``python -m controlplane.registry.create_tables``: make the registry's tables (idempotent).

Run at deploy or start-up time (``make run`` does, the sandbox does, infra/ declares the tables on
Azure), so that no request ever pays for, or blocks on, creating them.
"""

from __future__ import annotations

from controlplane.registry.factory import registry_from_settings
from controlplane.settings import get_settings


def main() -> int:
    registry_from_settings(get_settings()).create_table()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
