"""The Python type of an activity's JSON object input, as Microsoft's Python worker will accept it.

The worker checks every binding parameter's annotation when it indexes the app, and accepts only a
class or a ``typing`` generic (azure-functions-runtime 1.3.0, ``functions.py``
``validate_function_params`` with ``utils/typing_inspect.is_generic_type``). The builtin generic
``dict[str, Any]`` (PEP 585) is neither, and one such parameter makes the worker refuse to index the
whole app ("binding job has invalid non-type annotation"), so no function would load on Python 3.13.
``typing.Dict`` names the same type and passes.
"""

from __future__ import annotations

from typing import Any, Dict  # noqa: UP035 - see the module docstring

JsonObject = Dict[str, Any]  # noqa: UP006 - the worker refuses dict[str, Any] on a binding parameter
