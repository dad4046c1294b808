"""What a Linux Consumption host finds when it loads a package as-is: the imports its entry point cannot resolve.

Linux Consumption runs the package ``WEBSITE_RUN_FROM_PACKAGE`` names without building it (Learn:
functions-deployment-technologies, "External package URL"), so ``function_app.py`` (the v2 model's
entry point) imports from what the zip holds: the app's own modules at the root, and its dependencies
under ``.python_packages/lib/site-packages`` (Learn, "Troubleshoot Python errors in Azure Functions",
ModuleNotFoundError: "Browse to .python_packages/lib/site-packages/<package-name>. If the file path
doesn't exist, this missing path is likely the root cause."). Beside those, the standard library and
``azure.functions``, which the Python worker itself depends on (Azure/azure-functions-python-worker
declares ``azure-functions`` among its dependencies), so it imports whether or not the app vendors it.

This reads the imports with ``ast``, independently of the product's own check of the package
(controlplane/arm/built_package.py, which compares requirements.txt with installed distributions).
"""

from __future__ import annotations

import ast
import io
import sys
import zipfile

SITE_PACKAGES = ".python_packages/lib/site-packages/"
ENTRY_POINT = "function_app.py"
_WORKER_PROVIDED = ("azure.functions",)


def missing_imports(package: bytes) -> list[str]:
    """Modules ``function_app.py`` imports that would raise ModuleNotFoundError on the host (sorted)."""
    try:
        with zipfile.ZipFile(io.BytesIO(package)) as archive:
            names = set(archive.namelist())
            source = archive.read(ENTRY_POINT).decode("utf-8", "replace") if ENTRY_POINT in names else ""
    except zipfile.BadZipFile:
        return [ENTRY_POINT]
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return [ENTRY_POINT]
    wanted: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            wanted.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            wanted.add(node.module)
    return sorted(module for module in wanted if not _resolves(module, names))


def _resolves(module: str, names: set[str]) -> bool:
    if module.split(".")[0] in sys.stdlib_module_names:
        return True
    if any(module == provided or module.startswith(provided + ".") for provided in _WORKER_PROVIDED):
        return True
    path = module.replace(".", "/")
    for base in ("", SITE_PACKAGES):
        if f"{base}{path}.py" in names or any(name.startswith(f"{base}{path}/") for name in names):
            return True
    return False
