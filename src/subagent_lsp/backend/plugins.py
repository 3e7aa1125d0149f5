"""How a plugin or sub-app reaches the app: Fastify's `register` (its `prefix`, the hooks of the
`fastify-plugin` plugins registered before it, lists registered in a loop), Hono's
`app.route("/x", sub)`, and the members a plugin adds with `decorate`.

Fastify gives a plugin its own context: hooks added inside reach only its routes, unless the
plugin is wrapped in `fastify-plugin` (`fp(...)`), whose hooks and decorators land on the
instance it is registered on, so every plugin registered there after it gets them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tree_sitter import Node

from ..syntax.imports import imports
from ..syntax.source import SourceFile
from ..syntax.tree import (
    ancestors,
    arguments,
    calls_in,
    declarators,
    enclosing_function,
    member_parts,
    object_entries,
    string_value,
)
from .hono import base_path_of
from .routes import HOOKS, RouteCall

_WRAPPERS = frozenset({"fp", "fastifyPlugin", "plugin"})
_MAX_CONSTANT_DEPTH = 4
NAMES = frozenset({"identifier", "shorthand_property_identifier"})
"""A name, or one written as `{ dir }`: both stand for a binding."""
_STATEMENT_TYPES = frozenset(
    {"expression_statement", "lexical_declaration", "variable_declaration"}
)
DECORATE = re.compile(r"\.\s*decorate(?:Request|Reply)?\s*\(\s*['\"`]([\w$]+)['\"`]")
"""`app.decorate("verifyJwt", …)`: read from a file's text, for the reference index."""
INSTANCE_MEMBER = re.compile(
    r"(?<![\w$.])(?:app|fastify|server|instance)\s*\.\s*([A-Za-z_$][\w$]*)"
)
"""`app.verifyJwt`: members read on what is, by its usual name, a Fastify instance."""


@dataclass(frozen=True)
class Mount:
    """One place a plugin or sub-app is attached to its parent."""

    call: Node
    kind: str
    """"register" (Fastify), "route" (Hono's `app.route`), "autoload" (by folder)."""
    receiver: str
    """The parent as written: `fastify`, `api`, `this.#fastify`."""
    prefix: str
    """The path the parent puts in front of the routes it gets ("" when none is known)."""
    plugin: str = ""
    """What is mounted, as written there."""


def _root_receiver(call: Node, src: SourceFile) -> Node | None:
    """The object a chain of calls starts at: `fastify` in `fastify.register(a).register(b)`."""
    callee = call.child_by_field_name("function")
    node = callee.child_by_field_name("object") if callee is not None else None
    while node is not None and node.type == "call_expression":
        inner = node.child_by_field_name("function")
        node = inner.child_by_field_name("object") if inner is not None else None
    return node


def _at(call: Node) -> int:
    """Where a call's method is named: in a chain every call starts where the chain does."""
    callee = call.child_by_field_name("function")
    prop = callee.child_by_field_name("property") if callee is not None else None
    return (prop or call).start_byte


def constant(src: SourceFile, node: Node | None, depth: int = 0) -> str | None:
    """The string a node stands for when the file says so: a literal, a template literal of
    constants, or a `const` bound to one."""
    if node is None or depth > _MAX_CONSTANT_DEPTH:
        return None
    if node.type == "string":
        return string_value(node, src)
    if node.type == "template_string":
        out = ""
        for child in node.named_children:
            if child.type == "template_substitution":
                inner = child.named_children[0] if child.named_children else None
                part = constant(src, inner, depth + 1)
                if part is None:
                    return None
                out += part
            else:
                out += src.node_text(child)
        return out
    if node.type in NAMES:
        value = bound_value(src, node, src.node_text(node))
        return constant(src, value, depth + 1)
    return None


def bound_value(src: SourceFile, at: Node, name: str) -> Node | None:
    """The value of the nearest `const name = …` in the scopes around ``at``."""
    scopes = [a for a in ancestors(at) if a.type in ("statement_block", "program")]
    for scope in scopes:
        for declarator in declarators(src, scope, name):
            return declarator.child_by_field_name("value")
    return None


def options_object(src: SourceFile, node: Node | None) -> dict[str, Node]:
    """A register call's options object, followed through a `const` it is bound to; spread
    entries (`...this.#options`) are skipped."""
    if node is not None and node.type in NAMES:
        node = bound_value(src, node, src.node_text(node))
    return object_entries(node, src) if node is not None and node.type == "object" else {}


def join_paths(*parts: str) -> str:
    """Prefixes and a route path as the framework joins them: one `/` between each."""
    out = ""
    for part in parts:
        if not part:
            continue
        piece = part if part.startswith("/") else "/" + part
        out = out.rstrip("/") + piece
    # `/` under a prefix is the prefix itself.
    return out.rstrip("/") or "/"


def mount_of(src: SourceFile, call: Node, plugin: Node) -> Mount | None:
    """The mount ``call`` makes of what ``plugin`` (one of its arguments) names."""
    parts = member_parts(call, src)
    args = arguments(call)
    if parts is None or not args:
        return None
    receiver = _root_receiver(call, src)
    shown = src.node_text(receiver) if receiver is not None else parts[0]
    if parts[1] == "register" and args[0] == plugin:
        prefix = options_object(src, args[1] if len(args) > 1 else None).get("prefix")
        return Mount(call, "register", shown, constant(src, prefix) or "", src.node_text(plugin))
    if parts[1] == "route" and len(args) >= 2 and args[1] == plugin:
        # A sub-app mounted on an app made with `basePath` is served under both.
        base = base_path_of(src, shown) if receiver is not None else ""
        at = constant(src, args[0]) or ""
        return Mount(
            call, "route", shown, join_paths(base, at) if base else at, src.node_text(plugin)
        )
    return None


def is_wrapped_plugin(src: SourceFile, node: Node | None) -> bool:
    """Whether a plugin's value is wrapped in `fastify-plugin` (`fp(async (app) => …)`), so its
    hooks and decorators reach the instance it is registered on."""
    if node is None or node.type != "call_expression":
        return False
    callee = node.child_by_field_name("function")
    if callee is None:
        return False
    name = src.node_text(callee).split("<", 1)[0].rsplit(".", 1)[-1]
    return name in _WRAPPERS and any(i.source == "fastify-plugin" for i in imports(src))


def wrapped_function(src: SourceFile, name: str) -> bool:
    """Whether the file exports ``name`` through `fastify-plugin`: `export default fp(name)`."""
    for statement in src.tree.root_node.named_children:
        if statement.type != "export_statement":
            continue
        value = statement.child_by_field_name("value")
        if is_wrapped_plugin(src, value):
            args = arguments(value)
            if args and src.node_text(args[0]) == name:
                return True
    return False


def registered_before(
    src: SourceFile, call: Node, *, after: bool = False
) -> list[tuple[Node, Node]]:
    """(call, plugin) of the `register` calls on the same instance as ``call``, in the same
    function, before it (plugins whose `fastify-plugin` hooks apply to what ``call`` adds), or
    after it (those that get the hooks of what it adds)."""
    receiver = _root_receiver(call, src)
    if receiver is None:
        return []
    name = src.node_text(receiver)
    scope = enclosing_function(call)
    start, end = src.node_span(scope) if scope is not None else (0, len(src.text))
    found = []
    for other in calls_in(src, scope or src.tree.root_node, start, end):
        later = _at(other) > _at(call)
        if other == call or later != after or enclosing_function(other) != scope:
            continue
        parts = member_parts(other, src)
        root = _root_receiver(other, src)
        args = arguments(other)
        if parts is None or parts[1] != "register" or not args or root is None:
            continue
        if src.node_text(root) == name and args[0].type == "identifier":
            found.append((other, args[0]))
    return found


def statement_of(node: Node) -> Node:
    """The statement a call is part of, for showing it."""
    for current in (node, *ancestors(node)):
        if current.type in _STATEMENT_TYPES:
            return current
    return node


def neighbours(src: SourceFile, call: Node, limit: int = 3) -> tuple[int, int]:
    """The span of a registration statement with the registrations right before and after it
    on the same instance: their order decides which hooks apply to which."""
    statement = statement_of(call)
    receiver = _root_receiver(call, src)
    name = src.node_text(receiver) if receiver is not None else None
    start, end = src.node_span(statement)

    def registers(node: Node | None) -> bool:
        if node is None or node.type != "expression_statement":
            return False
        inner = node.named_children[0] if node.named_children else None
        if inner is None or inner.type != "call_expression":
            return False
        parts = member_parts(inner, src)
        root = _root_receiver(inner, src)
        return (
            parts is not None
            and parts[1] == "register"
            and root is not None
            and (src.node_text(root) == name)
        )

    before, after = statement.prev_named_sibling, statement.next_named_sibling
    for _ in range(limit):
        if not registers(before) or before is None:
            break
        start = src.node_span(before)[0]
        before = before.prev_named_sibling
    for _ in range(limit):
        if not registers(after) or after is None:
            break
        end = src.node_span(after)[1]
        after = after.next_named_sibling
    return start, end


def decorations(src: SourceFile) -> dict[str, Node]:
    """Member name -> the value given to `decorate("name", value)` in the file."""
    found: dict[str, Node] = {}
    if ".decorate" not in src.text:
        return found
    for call in calls_in(src, src.tree.root_node, 0, len(src.text)):
        parts = member_parts(call, src)
        args = arguments(call)
        if parts is None or not parts[1].startswith("decorate") or len(args) < 2:
            continue
        name = string_value(args[0], src)
        if name is not None:
            found.setdefault(name, args[1])
    return found


def local_declaration(src: SourceFile, at: Node, name: str) -> Node | None:
    """The statement that declares ``name`` in a scope around ``at`` (a function declared
    inside a plugin, such as the value it decorates the instance with)."""
    value = bound_value(src, at, name)
    if value is not None:
        return statement_of(value)
    for scope in (a for a in ancestors(at) if a.type in ("statement_block", "program")):
        for statement in scope.named_children:
            declared = statement.child_by_field_name("name")
            if (
                statement.type == "function_declaration"
                and declared is not None
                and (src.node_text(declared) == name)
            ):
                return statement
    return None


def route_config_keys(src: SourceFile, start: int, end: int) -> frozenset[str]:
    """The keys of a route's `config` a hook between two offsets reads:
    `request.routeOptions.config.auth`, through a name bound to the config, or destructured."""
    text = src.text[start:end]
    keys: set[str] = set()
    access = r"(?:routeOptions\s*\.\s*config|routeConfig|context\s*\.\s*config)"
    keys.update(re.findall(access + r"\s*\??\.\s*([\w$]+)", text))
    for alias in re.findall(r"(?:const|let)\s+([\w$]+)\s*=\s*[\w$.\s]*" + access, text):
        keys.update(re.findall(rf"(?<![\w$]){re.escape(alias)}\s*\??\.\s*([\w$]+)", text))
    for names in re.findall(r"(?:const|let)\s*\{([^}]*)\}\s*=\s*[\w$.\s]*" + access, text):
        keys.update(n.split(":")[0].strip() for n in names.split(",") if n.strip())
    return frozenset(k for k in keys if re.fullmatch(r"[A-Za-z_$][\w$]*", k))


def route_config(src: SourceFile, route_call: Node) -> dict[str, str]:
    """A Fastify route's `config: { key: value }` as written (`{ auth: "true" }`)."""
    for arg in arguments(route_call):
        if arg.type != "object":
            continue
        config = object_entries(arg, src).get("config")
        if config is not None and config.type == "object":
            return {k: src.node_text(v) for k, v in object_entries(config, src).items()}
    return {}


def hooks_in(src: SourceFile, start: int, end: int) -> list[tuple[str, Node]]:
    """(hook, statement) of the `addHook("onRequest", …)` calls between two offsets."""
    found: list[tuple[str, Node]] = []
    if ".addHook" not in src.text[start:end]:
        return found
    for call in calls_in(src, src.tree.root_node, start, end):
        parts = member_parts(call, src)
        args = arguments(call)
        hook = string_value(args[0], src) if args else None
        if parts is not None and parts[1] == "addHook" and hook in HOOKS:
            found.append((hook, statement_of(call)))
    return found


def uses_before(src: SourceFile, call: Node, path: str = "") -> list[Node]:
    """Hono's `app.use(…)` calls on the app ``call`` mounts onto, before it in the same scope,
    that apply under ``path`` (`use("/openapi", cors())` does not apply under `/incident`)."""
    receiver = _root_receiver(call, src)
    if receiver is None:
        return []
    name = src.node_text(receiver)
    scope = enclosing_function(call)
    start, end = src.node_span(scope) if scope is not None else (0, call.start_byte)
    found = []
    for other in calls_in(src, scope or src.tree.root_node, start, min(end, call.start_byte)):
        parts = member_parts(other, src)
        if parts is None or parts[1] != "use" or enclosing_function(other) != scope:
            continue
        root = _root_receiver(other, src)
        args = arguments(other)
        where = string_value(args[0], src) if args else None
        applies = where is None or path.startswith(where.rstrip("*").rstrip("/"))
        if root is not None and src.node_text(root) == name and applies:
            found.append(other)
    return found


def options_statement(src: SourceFile, call: Node) -> Node | None:
    """The `const options = { prefix }` a register call's options are bound to, if any."""
    args = arguments(call)
    if len(args) < 2 or args[1].type != "identifier":
        return None
    value = bound_value(src, args[1], src.node_text(args[1]))
    return statement_of(value) if value is not None else None


def route_path(src: SourceFile, route: RouteCall) -> str:
    """A route's own path with the constants it is built from filled in (`${base}/:id`)."""
    args = arguments(route.call)
    node = args[0] if args else None
    if node is not None and node.type == "object":
        node = object_entries(node, src).get("url")
    return (constant(src, node) if node is not None else None) or route.url


def looped_registration(src: SourceFile, element: Node) -> tuple[Node, Node] | None:
    """(register call, the loop's name for it) when ``element`` is listed in an array that a
    loop registers one by one: `for (const m of [a, b]) app.register(m, { prefix })`,
    `modules.forEach((m) => app.register(m, opts))`, the array bound to a `const` first."""
    array = element.parent
    if array is None or array.type != "array":
        return None
    holders = [array]
    declarator = array.parent
    if declarator is not None and declarator.type == "variable_declarator":
        name = declarator.child_by_field_name("name")
        scope = next((a for a in ancestors(declarator) if a.type in _SCOPES), None)
        if name is None or scope is None:
            return None
        wanted = src.node_text(name)
        start, end = src.node_span(scope)
        holders = [
            n
            for n in _named_nodes(scope)
            if n.type == "identifier"
            and src.node_text(n) == wanted
            and n != name
            and start <= n.start_byte < end
        ]
    for holder in holders:
        found = _loop_over(src, holder)
        if found is not None:
            return found
    return None


_SCOPES = frozenset({"statement_block", "program"})


def _named_nodes(node: Node) -> list[Node]:
    out, stack = [], [node]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(current.named_children)
    return out


def _loop_over(src: SourceFile, iterated: Node) -> tuple[Node, Node] | None:
    """The register call in the loop over ``iterated`` whose plugin is the loop's variable."""
    parent = iterated.parent
    variable: Node | None = None
    body: Node | None = None
    if parent is not None and parent.type == "for_in_statement":
        if parent.child_by_field_name("right") != iterated:
            return None
        variable = parent.child_by_field_name("left")
        body = parent.child_by_field_name("body")
    elif parent is not None and parent.type == "member_expression":
        prop = parent.child_by_field_name("property")
        call = parent.parent
        if prop is None or src.node_text(prop) not in ("forEach", "map") or call is None:
            return None
        args = arguments(call)
        callback = (
            args[0] if args and args[0].type in ("arrow_function", "function_expression") else None
        )
        if callback is None:
            return None
        params = callback.child_by_field_name("parameters")
        first = params.named_children[0] if params is not None and params.named_children else None
        variable = first.child_by_field_name("pattern") if first is not None else None
        variable = variable or callback.child_by_field_name("parameter")
        body = callback.child_by_field_name("body")
    if variable is None or body is None or variable.type != "identifier":
        return None
    name = src.node_text(variable)
    for call in calls_in(src, body, *src.node_span(body)):
        parts = member_parts(call, src)
        args = arguments(call)
        if parts is not None and parts[1] == "register" and args and src.node_text(args[0]) == name:
            return call, args[0]
    return None
