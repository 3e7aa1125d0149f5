"""`@fastify/autoload`: every matching file of a folder registered as a plugin, with the
folder names below it as prefixes, and the options given to each."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

from tree_sitter import Node

from ..syntax.imports import imports
from ..syntax.source import SourceFile
from ..syntax.tree import arguments, calls_in, member_parts
from .plugins import NAMES, bound_value, constant, join_paths, options_object

AUTOLOAD = "@fastify/autoload"


@dataclass(frozen=True)
class Autoload:
    """`register(autoload, { dir, matchFilter, options: { prefix } })`: every matching file of
    a folder registered as a plugin, with the folder names below ``dir`` as prefixes."""

    call: Node
    dir: Path
    suffixes: tuple[str, ...]
    """Names a file must end with (from `endsWith("…")` in `matchFilter`); empty for any."""
    prefix: str
    folder_prefixes: bool

    def covers(self, path: Path) -> bool:
        if not path.is_relative_to(self.dir) or path.name.endswith(".d.ts"):
            return False
        return not self.suffixes or path.name.endswith(self.suffixes)

    def prefix_of(self, path: Path) -> str:
        """The prefix the plugin in ``path`` gets: the option's, then its folders'."""
        folders = path.parent.relative_to(self.dir).parts if self.folder_prefixes else ()
        return join_paths(self.prefix, *folders)


def autoloads(src: SourceFile, path: Path) -> list[Autoload]:
    """The autoload registrations of a file, with the folder each loads (when written as
    `path.join(<this folder>, "…")`)."""
    # Asked once for every route's path: read once per parsed text.
    return src.remember(("autoloads", path), lambda: _autoloads(src, path))


def _autoloads(src: SourceFile, path: Path) -> list[Autoload]:
    local = {name for i in imports(src) if i.source == AUTOLOAD for name in i.names}
    if not local:
        return []
    found = []
    for call in calls_in(src, src.tree.root_node, 0, len(src.text)):
        parts = member_parts(call, src)
        args = arguments(call)
        if parts is None or parts[1] != "register" or len(args) < 2:
            continue
        if src.node_text(args[0]) not in local:
            continue
        options = options_object(src, args[1])
        folder = _folder(src, options.get("dir"), path.parent)
        if folder is None:
            continue
        suffixes = tuple(
            re.findall(r"endsWith\(\s*['\"]([^'\"]+)['\"]", src.node_text(options["matchFilter"]))
            if "matchFilter" in options
            else ()
        )
        inner = options_object(src, options.get("options"))
        prefix = constant(src, inner.get("prefix")) or ""
        flag = options.get("dirNameRoutePrefix")
        folder_prefixes = flag is None or src.node_text(flag) != "false"
        found.append(Autoload(call, folder, suffixes, prefix, folder_prefixes))
    return found


def _folder(src: SourceFile, node: Node | None, here: Path) -> Path | None:
    """The folder `path.join(__dirname, "../x")` (or `resolve`, or `import.meta.dirname`, or a
    helper of `import.meta.url`) names, or a `const` bound to one."""
    if node is not None and node.type in NAMES:
        node = bound_value(src, node, src.node_text(node))
    if node is None or node.type != "call_expression":
        return None
    callee = node.child_by_field_name("function")
    if callee is None or src.node_text(callee).rsplit(".", 1)[-1] not in ("join", "resolve"):
        return None
    args = arguments(node)
    if not args or not re.search(r"__dirname|import\.meta", src.node_text(args[0])):
        return None
    rest = [constant(src, a) for a in args[1:]]
    if any(part is None for part in rest):
        return None
    joined = posixpath.normpath(posixpath.join(here.as_posix(), *(p or "" for p in rest)))
    return Path(joined)
