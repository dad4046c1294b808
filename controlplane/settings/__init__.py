"""Every app setting the control plane reads, typed and validated in one place.

Settings come from the Function App's application settings (``local.settings.json`` under Core
Tools). They are read once, on first use, so a misconfigured app fails on its first request with a
message naming the setting to fix — never echoing its value, which may be a connection string.
"""

from controlplane.settings.loading import get_settings, load_settings
from controlplane.settings.model import Settings

__all__ = ["Settings", "get_settings", "load_settings"]
