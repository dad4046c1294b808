"""Microsoft's Python worker logic (``azure-functions-runtime``), driven the way the Functions host drives it.

On Azure the Functions host starts Microsoft's proxy worker, which connects back over gRPC and hands
every host message to the library worker the app installed: ``azure_functions_runtime.handle_event``
(Azure/azure-functions-python-worker ``workers/proxy_worker/dispatcher.py``). There is no host and no
gRPC here, so this module plays the host's side of that stream in-process: it builds the same
``StreamingMessage`` payloads from our proto (``sandbox/worker/function_rpc.proto``), wraps them the way
the dispatcher does (``WorkerRequest(name, request, properties={"protos", "host"})``), awaits the
library's handler on one event loop, and reads its answers. The order is the host's
(``GrpcWorkerChannel``): WorkerInitRequest (the library indexes ``function_app.py`` here), then
FunctionsMetadataRequest, then one FunctionLoadRequest per function, then InvocationRequests.

The library keeps its state in module globals (one worker per process, as on Azure), and a DFApp can
list its functions only once: so a process starts one worker per app directory, ever (``start`` is
idempotent and refuses a second directory).
"""

from __future__ import annotations

import sys
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from sandbox.durable.event_loop import BackgroundLoop, shared_loop
from sandbox.worker import protos as proto_module
from sandbox.worker.metadata import IndexedFunction

# The host's version string is informational for the worker; this is the 4.x host line.
HOST_VERSION = "4.1040.0.0"
# What the host advertises in WorkerInitRequest.capabilities (GrpcWorkerChannel.SendWorkerInitRequest):
# MultiStream always; V2 compatibility and the function data cache are off unless configured.
HOST_CAPABILITIES = {"MultiStream": "10"}


class WorkerStartError(RuntimeError):
    """The library worker answered a start-up message with a failure (as the host would log and stop)."""


@dataclass
class WorkerRequest:
    """The envelope the proxy worker hands the library (dispatcher.py ``WorkerRequest``)."""

    name: str
    request: Any  # a StreamingMessage
    properties: dict[str, Any] | None = None


@dataclass
class LanguageWorker:
    """The host's end of one Python worker, for one app directory."""

    app_directory: Path
    loop: BackgroundLoop = field(default_factory=shared_loop)
    functions: dict[str, IndexedFunction] = field(default_factory=dict)
    capabilities: dict[str, str] = field(default_factory=dict)
    worker_metadata: Any = None
    protos: ModuleType = field(default_factory=proto_module.load)

    def start(self) -> LanguageWorker:
        import azure_functions_runtime as library

        if str(self.app_directory) not in sys.path:  # the worker imports function_app by module name
            sys.path.insert(0, str(self.app_directory))
        library.start_threadpool_executor()  # the proxy worker does this before WorkerInitRequest
        init = self.protos.WorkerInitRequest(
            host_version=HOST_VERSION,
            capabilities=HOST_CAPABILITIES,
            function_app_directory=str(self.app_directory),
        )
        answer = self._send(
            library.worker_init_request,
            "WorkerInitRequest",
            worker_init_request=init,
            properties={"protos": self.protos, "host": "127.0.0.1"},
        )
        self._check("WorkerInitRequest", answer.result)
        self.capabilities = dict(answer.capabilities)
        self.worker_metadata = answer.worker_metadata

        metadata_request = self.protos.FunctionsMetadataRequest(function_app_directory=str(self.app_directory))
        metadata = self._send(
            library.functions_metadata_request, "WorkerMetadataRequest", functions_metadata_request=metadata_request
        )
        self._check("FunctionsMetadataRequest", metadata.result)
        if metadata.use_default_metadata_indexing:
            raise WorkerStartError("the worker asked the host to index function.json files; this app has none")
        for entry in metadata.function_metadata_results:
            function = IndexedFunction.from_proto(entry)
            load = self.protos.FunctionLoadRequest(function_id=function.function_id, metadata=entry)
            loaded = self._send(library.function_load_request, "FunctionLoadRequest", function_load_request=load)
            self._check(f"FunctionLoadRequest({function.name})", loaded.result)
            self.functions[function.name] = function
        return self

    def function(self, name: str) -> IndexedFunction:
        try:
            return self.functions[name]
        except KeyError:
            raise KeyError(f"the worker indexed no function named {name!r}") from None

    def invoke(
        self,
        function_name: str,
        inputs: dict[str, Any],
        *,
        trigger_metadata: dict[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Send one InvocationRequest (``inputs``: binding name -> TypedData) and return the InvocationResponse.

        Blocks the calling thread; the invocation itself runs on the worker's loop (async functions) or its
        thread pool (sync functions), as in the real worker. Call it from any thread but the loop's.
        """
        import azure_functions_runtime as library

        function = self.function(function_name)
        request = self.protos.InvocationRequest(
            invocation_id=str(uuid.uuid4()),
            function_id=function.function_id,
            input_data=[self.protos.ParameterBinding(name=name, data=data) for name, data in inputs.items()],
            trigger_metadata=trigger_metadata or {},
            trace_context=self.protos.RpcTraceContext(),
            retry_context=self.protos.RetryContext(),
        )
        return self._send(library.invocation_request, "FunctionInvocationRequest", timeout, invocation_request=request)

    def _send(
        self, handler: Any, name: str, timeout: float | None = None, *, properties: Any = None, **content: Any
    ) -> Any:
        message = self.protos.StreamingMessage(request_id=str(uuid.uuid4()), **content)
        return self.loop.run(handler(WorkerRequest(name, message, properties)), timeout=timeout)

    def _check(self, step: str, result: Any) -> None:
        if result.status != self.protos.StatusResult.Success:
            raise WorkerStartError(f"{step} failed: {result.exception.message}\n{result.exception.stack_trace}")


_workers: dict[Path, LanguageWorker] = {}
_workers_lock = threading.Lock()


def worker_for(app_directory: Path) -> LanguageWorker:
    """The process's worker for ``app_directory`` (started on first use; one app per process)."""
    directory = app_directory.resolve()
    with _workers_lock:
        if directory not in _workers:
            if _workers:
                raise RuntimeError(
                    f"this process already runs a worker for {next(iter(_workers))}; one app per process"
                )
            _workers[directory] = LanguageWorker(directory).start()
        return _workers[directory]
