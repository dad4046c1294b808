"""The Functions host's side of Microsoft's Python worker, in-process, for tests and the sandbox.

Since Python 3.13 the worker logic that indexes ``function_app.py``, converts binding data and runs
functions ships on the package index as ``azure-functions-runtime`` (Learn: "Python 3.13+ changes in
Azure Functions"); the deployed app pins it in requirements.txt. Here we play the host: the same
start-up and invocation messages (``function_rpc.proto``, from the public FunctionRpc contract), the
binding data the host and the Durable extension send, and their reading of the answers.

- ``library`` -- one ``LanguageWorker`` per process: init, metadata, load, invoke.
- ``metadata`` -- the worker's function metadata and the host's/extension's checks of it.
- ``http`` -- HttpRequest -> RpcHttp and the worker's answer -> HttpResponse.
- ``durable`` -- orchestrator replays and activities as the Durable extension invokes them.
"""

from __future__ import annotations

from pathlib import Path

from sandbox.worker.durable import WorkerDurableFunctions
from sandbox.worker.library import LanguageWorker, worker_for

APP_DIRECTORY = Path(__file__).resolve().parents[2]  # where function_app.py and host.json live


def app_worker() -> LanguageWorker:
    """The worker that indexed this repository's ``function_app.py`` (started on first use)."""
    return worker_for(APP_DIRECTORY)


def app_durable_functions() -> WorkerDurableFunctions:
    """The product's orchestrators and activities, reached through the worker."""
    return WorkerDurableFunctions(app_worker())


__all__ = ["APP_DIRECTORY", "LanguageWorker", "WorkerDurableFunctions", "app_durable_functions", "app_worker"]
