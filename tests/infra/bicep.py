"""Reading and evaluating our Bicep without the Bicep CLI (which cannot be had on these machines).

``parse`` is the strict syntax gate: tree-sitter-bicep's tree must hold no ERROR or MISSING node.
``BicepFile`` lists what a file declares (parameters with their decorators, variables, resources,
modules, outputs). ``Evaluator`` computes the value of a parameter, variable or output for given
parameter values: enough of Bicep's expression language and of ARM's template functions for what
infra/ uses (Learn: azure-resource-manager/bicep/bicep-functions; ARM's string() writes objects as
compact JSON and booleans as True/False, as .NET does). A reference to a resource or module
(``storage.outputs.tableEndpoint``) is looked up by its dotted path in ``symbols``: what ARM would only
know at deployment time, a test states. Anything it does not know raises, so a new construct in
infra/ fails loudly here instead of being evaluated wrongly.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tree_sitter_bicep
from tree_sitter import Language, Node, Parser

_PARSER = Parser(Language(tree_sitter_bicep.language()))
_ESCAPES = {"\\'": "'", "\\\\": "\\", "\\n": "\n", "\\r": "\r", "\\t": "\t", "\\$": "$"}


class BicepSyntaxError(Exception):
    pass


def parse(source: bytes, where: str = "<bicep>") -> Node:
    """The root node of ``source``; BicepSyntaxError naming the first line tree-sitter could not read."""
    root = _PARSER.parse(source).root_node
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            line, column = node.start_point
            raise BicepSyntaxError(f"{where}:{line + 1}:{column + 1}: cannot parse {node.text.decode()[:60]!r}")
        stack.extend(node.children)
    return root


def _named(node: Node) -> list[Node]:
    return [child for child in node.children if child.is_named and child.type != "comment"]


@dataclass
class Declaration:
    name: str
    node: Node  # the declaration itself
    value: Node | None  # its value (default, expression, body), if any
    decorators: dict[str, list[Node]] = field(default_factory=dict)  # decorator name -> argument nodes
    type_name: str = ""  # param/output type, or resource type@apiVersion / module path


class BicepFile:
    """What one .bicep file declares."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.root = parse(path.read_bytes(), str(path))
        self.target_scope = "resourceGroup"
        self.params: dict[str, Declaration] = {}
        self.variables: dict[str, Declaration] = {}
        self.resources: dict[str, Declaration] = {}
        self.modules: dict[str, Declaration] = {}
        self.outputs: dict[str, Declaration] = {}
        pending: dict[str, list[Node]] = {}
        for node in _named(self.root):
            if node.type == "decorators":
                pending = _decorators(node)
                continue
            kind, decorators, pending = node.type, pending, {}
            children = _named(node)
            if kind == "target_scope_assignment":
                self.target_scope = string_literal(children[-1])
                continue
            name = children[0].text.decode()
            if kind == "parameter_declaration":
                default = children[2] if len(children) > 2 else None
                self.params[name] = Declaration(name, node, default, decorators, children[1].text.decode())
            elif kind == "variable_declaration":
                self.variables[name] = Declaration(name, node, children[1], decorators)
            elif kind in ("resource_declaration", "module_declaration"):
                target = string_literal(children[1])
                table = self.resources if kind == "resource_declaration" else self.modules
                table[name] = Declaration(name, node, children[-1], decorators, target)
            elif kind == "output_declaration":
                self.outputs[name] = Declaration(name, node, children[-1], decorators, children[1].text.decode())

    def module_file(self, module: str) -> BicepFile:
        return BicepFile((self.path.parent / self.modules[module].type_name).resolve())


def _decorators(node: Node) -> dict[str, list[Node]]:
    found = {}
    for decorator in _named(node):
        call = _named(decorator)[0]
        if call.type == "call_expression":
            function, arguments = _named(call)
            found[function.text.decode()] = _named(arguments)
        else:
            found[call.text.decode()] = []
    return found


def string_literal(node: Node) -> str:
    """A string without interpolation."""
    if node.type != "string" or any(child.type == "interpolation" for child in node.children):
        raise ValueError(f"expected a plain string, got {node.text.decode()[:60]!r}")
    return Evaluator.string(node, lambda _node: "")


def declaration_body(declaration: Declaration) -> Node:
    """A resource's or module's object body, looking through `if (...)` and `[for ...]`."""
    body = declaration.value
    assert body is not None
    while body.type in ("if_statement", "for_statement"):
        body = _named(body)[-1]
    return body


def properties(node: Node) -> dict[str, Node]:
    """An object literal's properties by (literal) key."""
    if node.type != "object":
        raise ValueError(f"expected an object, got {node.type}")
    result = {}
    for prop in _named(node):
        key, value = _named(prop)
        result[key.text.decode() if key.type == "identifier" else string_literal(key)] = value
    return result


def bicep_string(value: Any) -> str:
    """ARM's string(): JSON for arrays and objects, True/False for booleans."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if value is None:
        return ""
    return str(value)


def _unique_string(*parts: Any) -> str:
    # ARM's uniqueString is a 13-character base-32 hash; any deterministic stand-in of that shape will do.
    digest = hashlib.sha256("|".join(map(bicep_string, parts)).encode()).digest()
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    return "".join(alphabet[b % 32] for b in digest[:13])


@dataclass
class Deployment:
    """What ARM's deployment functions return."""

    subscription_id: str = "00000000-0000-0000-0000-00000000000a"
    tenant_id: str = "00000000-0000-0000-0000-00000000000b"
    resource_manager: str = "https://management.azure.com/"
    storage_suffix: str = "core.windows.net"


class Evaluator:
    """Values of one file's parameters, variables and outputs for given parameter values."""

    def __init__(
        self,
        file: BicepFile,
        params: Mapping[str, Any] | None = None,
        symbols: Mapping[str, Any] | None = None,
        deployment: Deployment | None = None,
    ) -> None:
        self.file = file
        self.given = dict(params or {})
        unknown = set(self.given) - set(file.params)
        if unknown:
            raise KeyError(f"{file.path.name} declares no parameter(s) {sorted(unknown)}")
        self.symbols = dict(symbols or {})
        self.deployment = deployment or Deployment()
        self._cache: dict[str, Any] = {}

    def param(self, name: str) -> Any:
        if name in self.given:
            return self.given[name]
        default = self.file.params[name].value
        if default is None:
            raise KeyError(f"{self.file.path.name}: parameter {name} has no default and was not given")
        return self.eval(default)

    def var(self, name: str) -> Any:
        if name not in self._cache:
            self._cache[name] = self.eval(self.file.variables[name].value)  # type: ignore[arg-type]
        return self._cache[name]

    def output(self, name: str) -> Any:
        return self.eval(self.file.outputs[name].value)  # type: ignore[arg-type]

    def module_params(self, module: str, loop_item: Any = None) -> dict[str, Any]:
        """The parameter values this file passes to one of its modules."""
        declaration = self.file.modules[module]
        scope = {}
        if declaration.value is not None and declaration.value.type == "for_statement":
            scope[_named(declaration.value)[0].text.decode()] = loop_item
        params = properties(declaration_body(declaration)).get("params")
        return {} if params is None else self.eval(params, scope)

    # -- expressions ---------------------------------------------------------------------------

    def eval(self, node: Node, scope: Mapping[str, Any] | None = None) -> Any:
        scope = scope or {}
        kind = node.type
        if kind == "string":
            return self.string(node, lambda inner: bicep_string(self.eval(inner, scope)))
        if kind == "number":
            return int(node.text.decode())
        if kind == "boolean":
            return node.text.decode() == "true"
        if kind == "null":
            return None
        if kind == "parenthesized_expression":
            return self.eval(_named(node)[0], scope)
        if kind == "array":
            return [self.eval(item, scope) for item in _named(node)]
        if kind == "object":
            result = {}
            for prop in _named(node):
                key, value = _named(prop)
                name = key.text.decode() if key.type == "identifier" else self.eval(key, scope)
                result[name] = self.eval(value, scope)
            return result
        if kind == "identifier":
            return self._identifier(node.text.decode(), scope)
        if kind == "member_expression":
            path = self._symbol_path(node)
            if path is not None:
                return self._symbol(path)
            target, prop = _named(node)
            value = self.eval(target, scope)
            return value[prop.text.decode()]
        if kind == "subscript_expression":
            target, index = _named(node)
            return self.eval(target, scope)[self.eval(index, scope)]
        if kind == "for_statement":  # [for item in items: body]
            item, items, body = _named(node)
            if item.type != "identifier":
                raise NotImplementedError(f"{self.file.path.name}: loop over {item.text.decode()!r}")
            return [self.eval(body, {**scope, item.text.decode(): value}) for value in self.eval(items, scope)]
        if kind == "ternary_expression":
            condition, consequence, alternative = _named(node)
            return self.eval(consequence if self.eval(condition, scope) else alternative, scope)
        if kind == "unary_expression":
            operator, argument = node.children[0].type, _named(node)[-1]
            return {"!": lambda v: not v, "-": lambda v: -v}[operator](self.eval(argument, scope))
        if kind == "binary_expression":
            return self._binary(node, scope)
        if kind == "call_expression":
            return self._call(node, scope)
        raise NotImplementedError(f"{self.file.path.name}: no evaluation for {kind}: {node.text.decode()[:60]!r}")

    @staticmethod
    def string(node: Node, interpolate: Callable[[Node], str]) -> str:
        parts = []
        for child in node.children:
            if child.type == "string_content":
                parts.append(child.text.decode())
            elif child.type == "escape_sequence":
                parts.append(_ESCAPES[child.text.decode()])
            elif child.type == "interpolation":
                parts.append(interpolate(_named(child)[0]))
        text = "".join(parts)
        if node.children and node.children[0].type == "'''":
            text = text.removeprefix("\n")  # a multi-line string starts after its first line break
        return text

    def _identifier(self, name: str, scope: Mapping[str, Any]) -> Any:
        if name in scope:
            return scope[name]
        if name in self.file.params:
            return self.param(name)
        if name in self.file.variables:
            return self.var(name)
        if name in self.file.resources or name in self.file.modules:
            return self._symbol(name)
        raise NameError(f"{self.file.path.name}: unknown identifier {name}")

    def _symbol_path(self, node: Node) -> str | None:
        """``a.b.c`` when ``a`` is a resource or module of this file, else None."""
        names = []
        while node.type == "member_expression":
            target, prop = _named(node)
            names.append(prop.text.decode())
            node = target
        if node.type == "identifier" and node.text.decode() in {*self.file.resources, *self.file.modules}:
            return ".".join([node.text.decode(), *reversed(names)])
        return None

    def _symbol(self, path: str) -> Any:
        if path not in self.symbols:
            raise KeyError(f"{self.file.path.name}: the test gives no value for {path}")
        return self.symbols[path]

    def _binary(self, node: Node, scope: Mapping[str, Any]) -> Any:
        left, right = _named(node)
        operator = node.children[1].type
        if operator == "&&":
            return self.eval(left, scope) and self.eval(right, scope)
        if operator == "||":
            return self.eval(left, scope) or self.eval(right, scope)
        a, b = self.eval(left, scope), self.eval(right, scope)
        operations: dict[str, Callable[[Any, Any], Any]] = {
            "==": lambda x, y: x == y,
            "!=": lambda x, y: x != y,
            "=~": lambda x, y: str(x).lower() == str(y).lower(),
            "<": lambda x, y: x < y,
            "<=": lambda x, y: x <= y,
            ">": lambda x, y: x > y,
            ">=": lambda x, y: x >= y,
            "+": lambda x, y: x + y,
            "-": lambda x, y: x - y,
            "*": lambda x, y: x * y,
            "??": lambda x, y: y if x is None else x,
        }
        return operations[operator](a, b)

    def _call(self, node: Node, scope: Mapping[str, Any]) -> Any:
        function, arguments = _named(node)
        name = function.text.decode()
        nodes = _named(arguments)
        if name in ("map", "filter", "toObject"):
            items = self.eval(nodes[0], scope)
            lambdas = [self._lambda(n, scope) for n in nodes[1:]]
            if name == "map":
                return [lambdas[0](item) for item in items]
            if name == "filter":
                return [item for item in items if lambdas[0](item)]
            return {lambdas[0](item): (lambdas[1](item) if len(lambdas) > 1 else item) for item in items}
        args = [self.eval(n, scope) for n in nodes]
        d = self.deployment
        functions: dict[str, Callable[..., Any]] = {
            "string": bicep_string,
            "empty": lambda v: v is None or len(v) == 0,
            "toLower": str.lower,
            "toUpper": str.upper,
            "length": len,
            "join": lambda items, sep: sep.join(items),
            "take": lambda v, n: v[:n],
            "contains": lambda v, x: x in v,
            "json": json.loads,
            "union": _union,
            "items": lambda obj: [{"key": k, "value": obj[k]} for k in sorted(obj, key=str.lower)],
            "uniqueString": _unique_string,
            "guid": lambda *parts: str(uuid.uuid5(uuid.NAMESPACE_URL, "|".join(map(bicep_string, parts)))),
            "subscription": lambda: {
                "id": f"/subscriptions/{d.subscription_id}",
                "subscriptionId": d.subscription_id,
                "tenantId": d.tenant_id,
            },
            "tenant": lambda: {"tenantId": d.tenant_id},
            "environment": lambda: {
                "name": "AzureCloud",
                "resourceManager": d.resource_manager,
                "suffixes": {"storage": d.storage_suffix},
            },
            "subscriptionResourceId": lambda rtype, rname: (
                f"/subscriptions/{d.subscription_id}/providers/{rtype}/{rname}"
            ),
        }
        if name not in functions:
            raise NotImplementedError(f"{self.file.path.name}: no evaluation for function {name}()")
        return functions[name](*args)

    def _lambda(self, node: Node, scope: Mapping[str, Any]) -> Callable[[Any], Any]:
        if node.type != "lambda_expression":
            raise NotImplementedError(f"expected a lambda, got {node.text.decode()[:60]!r}")
        variable, body = _named(node)
        return lambda value: self.eval(body, {**scope, variable.text.decode(): value})


def _union(*values: Any) -> Any:
    if all(isinstance(v, dict) for v in values):
        merged: dict[str, Any] = {}
        for value in values:
            merged.update(value)  # the last object's value wins (ARM union())
        return merged
    merged_list: list[Any] = []
    for value in values:
        merged_list.extend(item for item in value if item not in merged_list)
    return merged_list
