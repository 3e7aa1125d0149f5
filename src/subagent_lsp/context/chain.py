"""The backward items of a registration chain: each hop that attaches the selection's plugin or
router to the app (with the prefix it adds and the full path a route ends up at), the hooks of
the `fastify-plugin` plugins registered before it, the plugins registered after a selected one
(and the routes that set the `config` keys its hooks read), and the members a plugin decorates
the instance with: where each is defined, and where routes use it.

Reads files (through `mounts.py`): worker threads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from tree_sitter import Node

from ..backend.plugins import (
    INSTANCE_MEMBER,
    decorations,
    join_paths,
    registered_before,
    route_config,
    route_config_keys,
    route_path,
    statement_of,
)
from ..backend.routes import RouteCall, route_call
from ..overlay import DocumentSnapshot
from ..redaction import redact
from ..syntax.declarations import Declaration
from ..syntax.source import SourceFile
from ..syntax.tree import calls_in
from .items import ContextItem, excerpt
from .mounts import Hop, Mounts, declaration_at
from .ranking import is_test
from .references import ReferenceIndex
from .symbols import Lookup

_MAX_READERS = 2
_MAX_FOLLOWERS = 2
_MAX_CONFIG_ROUTES = 3
_MAX_ROUTE_LINES = 14
_NOT_MEMBERS = frozenset({"addHook", "register", "get", "post", "put", "patch", "delete", "route"})
"""Fastify's own methods, read on the instance in every plugin: nothing decorated."""


def _language(src: SourceFile) -> str:
    return "tsx" if src.language == "tsx" else "ts"


class Chain:
    def __init__(
        self,
        display: Callable[[Path], str],
        lookup: Lookup,
        references: ReferenceIndex | None,
        documents: Mapping[Path, DocumentSnapshot],
    ) -> None:
        self.display = display
        self.lookup = lookup
        self.mounts = Mounts(lookup, references, documents)
        self.references = references
        self.documents = documents

    def items(
        self,
        path: Path,
        src: SourceFile,
        name: str,
        route: tuple[SourceFile, RouteCall] | None,
        shown: set[tuple[Path, int]],
    ) -> list[ContextItem]:
        """The hops above the declaration ``name``, each unless already ``shown`` (a file and
        a line), and the app-wide hooks registered before each."""
        hops = self.mounts.chain(path, src, name)
        items: list[ContextItem] = []
        full = ""
        if route is not None and any(h.mount is not None for h in hops):
            route_src, call = route
            full = (
                f"{call.method} {join_paths(self.mounts.prefix(hops), route_path(route_src, call))}"
            )
        plugins: set[tuple[Path, str]] = set()
        for hop in hops:
            line = hop.src.line_of(hop.at) + 1
            where = self.display(hop.path)
            again = (hop.path, line) in shown
            if not again or (full and hop is hops[0] and hop.mount is not None):
                shown.add((hop.path, line))
                outermost = hop is next((h for h in reversed(hops) if h.mount), None)
                reason = _reason(hop, full if outermost or again else "") + f" ({where}:{line})"
                # Shown already as the selection's registration: only the line, for the path.
                spans = (hop.src.line_span(hop.src.line_of(hop.at)),) if again else hop.spans
                text = redact(excerpt(hop.src, spans))
                items.append(
                    ContextItem(
                        2, "usage", where, "registration", reason, text, None, _language(hop.src), 1
                    )
                )
            for plugin in hop.plugins:
                if (plugin.path, plugin.name) in plugins:
                    continue
                plugins.add((plugin.path, plugin.name))
                hooks = ", ".join(f"`{h}`" for h in dict.fromkeys(plugin.hooks))
                reason = (
                    f"the {hooks} hook of `{plugin.name}`, a `fastify-plugin` plugin registered "
                    f"on the same instance before this one ({where}:{line}): it runs for its routes"
                )
                text = redact(excerpt(plugin.src, plugin.spans))
                items.append(
                    ContextItem(
                        2,
                        "usage",
                        self.display(plugin.path),
                        plugin.name,
                        reason,
                        text,
                        None,
                        _language(plugin.src),
                        2,
                    )
                )
        return items

    def followers(
        self, path: Path, src: SourceFile, call: Node, decl: Declaration, decl_src: SourceFile
    ) -> list[ContextItem]:
        """For a plugin registered by ``call``: the hook plugins registered right after it on
        the same instance, and the routes there that set the `config` keys its hooks read."""
        items: list[ContextItem] = []
        keys = route_config_keys(decl_src, decl.start, decl.end)
        where = f"{self.display(path)}:{src.line_of(src.node_span(call)[0]) + 1}"
        best: tuple[int, Path, SourceFile, list[Node]] | None = None
        for _, plugin in registered_before(src, call, after=True):
            name = src.node_text(plugin)
            found = self.mounts.plugin(path, src, name)
            if found is not None and len(items) < _MAX_FOLLOWERS:
                hooks = ", ".join(f"`{h}`" for h in dict.fromkeys(found.hooks))
                reason = f"the {hooks} hook of `{name}`, registered after it ({where})"
                text = redact(excerpt(found.src, found.spans))
                items.append(
                    ContextItem(
                        3,
                        "usage",
                        self.display(found.path),
                        name,
                        reason,
                        text,
                        None,
                        _language(found.src),
                        2,
                    )
                )
                continue
            symbol = self.lookup.find(path, src, name) if keys else None
            if symbol is None:
                continue
            routes = _routes_setting(symbol.source, keys)
            if routes and (best is None or len(routes) > best[0]):
                best = (len(routes), symbol.path, symbol.source, routes)
        if best is not None:
            _, r_path, r_src, routes = best
            listed = ", ".join(f"`config.{k}`" for k in sorted(keys))
            for call_node in routes[:_MAX_CONFIG_ROUTES]:
                line = r_src.line_of(r_src.node_span(call_node)[0]) + 1
                reason = (
                    f"a route that sets {listed}, read by the hooks of the selection "
                    f"({self.display(r_path)}:{line})"
                )
                span = r_src.node_span(statement_of(call_node))
                text = redact(excerpt(r_src, (span,)))
                items.append(
                    ContextItem(
                        2,
                        "usage",
                        self.display(r_path),
                        "route config",
                        reason,
                        text,
                        None,
                        _language(r_src),
                        2,
                    )
                )
        return items

    def decorated(self, members: Iterable[str], used_at: str) -> list[ContextItem]:
        """Where the instance members a route's hooks use are decorated onto the instance."""
        items = []
        for member in dict.fromkeys(members):
            found = self.mounts.decorated(member)
            if found is None:
                continue
            path, src, span = found
            reason = f"what `{member}` is: the value decorated onto the instance ({used_at})"
            text = redact(excerpt(src, (span,)))
            items.append(
                ContextItem(
                    3, "usage", self.display(path), member, reason, text, None, _language(src), 2
                )
            )
        return items

    def readers(self, path: Path, src: SourceFile, start: int, end: int) -> list[ContextItem]:
        """For a plugin that decorates the instance: where the members it adds are read."""
        items: list[ContextItem] = []
        added = [
            name for name, value in decorations(src).items() if start <= value.start_byte < end
        ]
        if not added or self.references is None:
            return items
        for member in added:
            files = self.references.files_where(lambda r: member in r.reads, self.documents)  # noqa: B023
            for other in [f for f in files or [] if f != path and not is_test(f)][:_MAX_READERS]:
                other_src = self.lookup.source(other)
                if other_src is None:
                    continue
                for match in INSTANCE_MEMBER.finditer(other_src.text):
                    if match[1] != member:
                        continue
                    node = other_src.node_at(*match.span(1))
                    span = other_src.node_span(statement_of(node))
                    line = other_src.line_of(span[0]) + 1
                    where = self.display(other)
                    reason = f"uses `{member}`, which the selection decorates ({where}:{line})"
                    text = redact(excerpt(other_src, (span,)))
                    items.append(
                        ContextItem(
                            2, "usage", where, member, reason, text, None, _language(other_src), 1
                        )
                    )
                    break
        return items


def _routes_setting(src: SourceFile, keys: frozenset[str]) -> list[Node]:
    """The routes of a file whose `config` sets one of ``keys``, one per distinct value."""
    found: list[Node] = []
    values: set[str] = set()
    for call in calls_in(src, src.tree.root_node, 0, len(src.text)):
        route = route_call(src, call)
        if route is None or route.kind != "route":
            continue
        config = route_config(src, call)
        value = ",".join(f"{k}={config[k]}" for k in sorted(keys & config.keys()))
        if not value or value in values:
            continue
        start, end = src.node_span(statement_of(call))
        if src.line_of(end) - src.line_of(start) < _MAX_ROUTE_LINES:
            values.add(value)
            found.append(call)
    return found


def _reason(hop: Hop, full: str) -> str:
    mount = hop.mount
    at = f": the route is served at `{full}`" if full else ""
    if mount is None:
        return "hands the app to the selection's code, which registers on it"
    prefix = f" under the prefix `{mount.prefix}`" if mount.prefix else ""
    if mount.kind == "autoload":
        return f"loads the file with @fastify/autoload{prefix}{at}"
    if mount.kind == "route":
        behind = ", behind the middleware `use`d there" if hop.middleware else ""
        return (
            f"mounts `{mount.plugin}` on `{mount.receiver}` at `{mount.prefix or '/'}`{behind}{at}"
        )
    return f"registers `{mount.plugin}` on `{mount.receiver}`{prefix}{at}"


def hook_members(src: SourceFile, spans: Iterable[tuple[int, int]]) -> list[str]:
    """Instance members read in a route's hooks (`app.verifyJwt`)."""
    out: list[str] = []
    for start, end in spans:
        out += [m for m in INSTANCE_MEMBER.findall(src.text[start:end]) if m not in _NOT_MEMBERS]
    return out


def served_prefix(
    path: Path,
    src: SourceFile,
    route: RouteCall,
    lookup: Lookup,
    references: ReferenceIndex | None,
    documents: Mapping[Path, DocumentSnapshot],
) -> str | None:
    """The prefixes the app puts in front of a route, from where its plugin or router is
    mounted; None when no mount is found. Reads files: worker threads."""
    name = chain_start(src, src.node_span(route.call)[0])
    if name is None:
        return None
    mounts = Mounts(lookup, references, documents)
    hops = mounts.chain(path, src, name)
    return mounts.prefix(hops) if any(h.mount is not None for h in hops) else None


def chain_start(src: SourceFile, at: int) -> str | None:
    """The declaration a chain starts from: the one around a registration."""
    decl = declaration_at(src, at)
    return decl.name if decl is not None else None
