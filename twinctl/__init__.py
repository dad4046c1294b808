"""twinctl: the command line for any Twin Stack control plane.

It replaces the person who ran ``provision-twin-lite.sh``, watched it and copied the URL: one command
starts the work, waits for it and prints exactly what a script needs (the brainstem's URL), with an
exit code per kind of failure so that callers can branch without parsing text. It speaks only HTTP
to the control plane's public API, so it imports nothing from the control plane itself.
"""

__version__ = "0.1.0"
