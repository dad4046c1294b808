"""HTTP requests into the worker and responses out of it, shaped as the Functions host shapes them.

In: ``GrpcMessageConversionExtensions.ToRpcHttp`` (Azure/azure-functions-host
``src/WebJobs.Script.Grpc/MessageExtensions``) with the capabilities the Python worker announces
(RawHttpBodyBytes, RpcHttpBodyOnly, RpcHttpTriggerMetadataRemoved): url = scheme://host/path?query,
header names lower-cased, query entries with empty values dropped, route values as ``params``, and the
body as raw bytes only when the request has one. No trigger metadata is sent for HTTP.

Out: the worker's ``$return`` TypedData. ``http`` carries ``status_code`` as text, headers and a body
(``GrpcMessageExtensionUtilities.ConvertFromHttpMessageToExpando``); a failed invocation is answered by
the host with a bare 500, whatever the function meant to say.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import azure.functions as func

from sandbox.worker.library import LanguageWorker


def to_rpc_http(protos: Any, request: func.HttpRequest) -> Any:
    """``TypedData{http}`` for ``request`` as ToRpcHttp builds it."""
    body = request.get_body()
    url = request.url
    if request.params and "?" not in url:  # the host's url is Path + QueryString
        url += "?" + urllib.parse.urlencode(dict(request.params))
    http = protos.RpcHttp(
        method=request.method,
        url=url,
        headers={name.lower(): value for name, value in request.headers.items()},
        query={name: value for name, value in request.params.items() if value},
        params={name: value for name, value in request.route_params.items() if value is not None},
    )
    if body:  # "if (request.Body != null && request.ContentLength > 0)"
        http.body.CopyFrom(protos.TypedData(bytes=body))
    return protos.TypedData(http=http)


def _body_bytes(data: Any) -> bytes:
    kind = data.WhichOneof("data")
    if kind is None:
        return b""
    if kind in ("bytes", "stream"):
        return bytes(getattr(data, kind))
    if kind in ("string", "json", "int", "double"):
        return str(getattr(data, kind)).encode()
    raise ValueError(f"an HTTP response body of TypedData kind {kind!r} is not something the host can write")


def from_invocation_response(protos: Any, response: Any) -> func.HttpResponse:
    """The HTTP answer the host writes for one InvocationResponse of an HTTP-triggered function."""
    if response.result.status != protos.StatusResult.Success:
        return func.HttpResponse(status_code=500)
    value = response.return_value
    kind = value.WhichOneof("data")
    if kind is None:
        raise ValueError("the worker reported success but returned no HTTP response")
    if kind != "http":  # a plain return value is written as a 200 body
        mimetype = "application/json" if kind == "json" else "text/plain"
        return func.HttpResponse(_body_bytes(value), status_code=200, mimetype=mimetype)
    http = value.http
    headers = dict(http.headers)
    return func.HttpResponse(
        _body_bytes(http.body),
        status_code=int(http.status_code or 200),
        headers=headers,
        mimetype=headers.get("content-type", "text/plain").split(";")[0],
    )


def invoke_http(
    worker: LanguageWorker, function_name: str, request: func.HttpRequest, *, client_json: str | None
) -> func.HttpResponse:
    """Run an HTTP-triggered function through the worker: the request, and the durable client binding if any."""
    function = worker.function(function_name)
    trigger = function.trigger
    inputs = {str(trigger["name"]): to_rpc_http(worker.protos, request)}
    for binding in function.bindings_of_type("durableClient"):
        if client_json is None:
            raise RuntimeError(f"{function_name} declares a durable client binding: start a DurableClientServer")
        # BindingHelper.DurableOrchestrationClientToString: the binding value is the payload's JSON text.
        inputs[str(binding["name"])] = worker.protos.TypedData(string=client_json)
    response = worker.invoke(function_name, inputs)
    return from_invocation_response(worker.protos, response)


def describe_failure(response: Any) -> str:
    """The worker's exception for a failed invocation (for logs and test messages)."""
    return json.dumps({"message": response.result.exception.message, "stack": response.result.exception.stack_trace})
