"""Reading TypeScript with tree-sitter: what the cursor points at, instruction comments, code facts.

Every public function takes and returns absolute character offsets into the Python string (code
points). tree-sitter works in UTF-8 bytes; the conversion happens here and nowhere else.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Literal, TypeVar, cast

import tree_sitter_typescript
from tree_sitter import Language, Node, Parser, Query, QueryCursor, Tree

from .positions import LineIndex

SyntaxLanguage = Literal["typescript", "tsx"]
_T = TypeVar("_T")

_HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options", "all"}
_ROUTE_CALLS = _HTTP_METHODS | {"route"}
_PLUGIN_CALLS = {"register"}
_STATEMENTS = {
    "expression_statement",
    "lexical_declaration",
    "variable_declaration",
    "return_statement",
    "if_statement",
    "for_statement",
    "for_in_statement",
    "while_statement",
    "do_statement",
    "try_statement",
    "switch_statement",
    "throw_statement",
    "function_declaration",
    "generator_function_declaration",
    "class_declaration",
    "abstract_class_declaration",
    "interface_declaration",
    "type_alias_declaration",
    "enum_declaration",
    "export_statement",
    "import_statement",
    "method_definition",
    "public_field_definition",
}
_FUNCTIONS = {
    "function_declaration",
    "generator_function_declaration",
    "function_expression",
    "arrow_function",
    "method_definition",
}
_CLASSES = {"class_declaration", "abstract_class_declaration", "class"}
_DB_RECEIVER = re.compile(r"^(db|tx|trx|database|\w+Db)$")
_DB_METHODS = {"select", "selectDistinct", "insert", "update", "delete", "execute", "transaction"}
_QUERY_METHODS = {"findMany", "findFirst"}
_INSTRUCTION = re.compile(r"^\s*(?://+|/\*+|\*+)?\s*@([a-z][a-z0-9-]*)\s*:\s*(.*?)\s*(?:\*+/)?\s*$")
_COMMENT_TEXT = re.compile(r"^\s*(?://+|/\*+|\*+)?\s?(.*?)\s*(?:\*+/)?\s*$")


_BLOCK = 1 << 16


def _common_prefix(a: str, b: str) -> int:
    """Length of the common prefix, comparing whole blocks in C before single characters."""
    limit, n = min(len(a), len(b)), 0
    while n + _BLOCK <= limit and a[n : n + _BLOCK] == b[n : n + _BLOCK]:
        n += _BLOCK
    while n < limit and a[n] == b[n]:
        n += 1
    return n


def _common_suffix(a: str, b: str, limit: int) -> int:
    """Length of the common suffix, at most ``limit`` (so it never overlaps the prefix)."""
    n = 0
    while (
        n + _BLOCK <= limit
        and a[len(a) - n - _BLOCK : len(a) - n] == b[len(b) - n - _BLOCK : len(b) - n]
    ):
        n += _BLOCK
    while n < limit and a[len(a) - n - 1] == b[len(b) - n - 1]:
        n += 1
    return n


@cache
def _parser(language: SyntaxLanguage) -> Parser:
    raw = (
        tree_sitter_typescript.language_tsx()
        if language == "tsx"
        else tree_sitter_typescript.language_typescript()
    )
    return Parser(Language(raw))


def language_for(path_or_uri: str, language_id: str | None = None) -> SyntaxLanguage | None:
    if language_id == "typescript":
        return "typescript"
    if language_id == "typescriptreact":
        return "tsx"
    if language_id is not None and language_id not in ("", "plaintext"):
        return None
    lowered = path_or_uri.lower().split("?", 1)[0]
    if lowered.endswith((".ts", ".mts", ".cts")):
        return "typescript"
    if lowered.endswith(".tsx"):
        return "tsx"
    return None


class SourceFile:
    """A parsed document. Build once per text and reuse for every question about it."""

    def __init__(
        self, text: str, language: SyntaxLanguage, previous: SourceFile | None = None
    ) -> None:
        """Parse ``text``; with the ``previous`` version of the same document, only what changed."""
        self.text = text
        self.language = language
        self._data = text.encode("utf-8")
        self._ascii = len(self._data) == len(text)
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self._byte_marks: list[int] | None = None
        # Derived facts (declarations, identifiers) computed once per parsed text: see remember().
        self._memo: dict[object, object] = {}
        self.tree: Tree = self._parse(previous)

    def _parse(self, previous: SourceFile | None) -> Tree:
        parser = _parser(self.language)
        if previous is None or previous.language != self.language:
            return parser.parse(self._data)
        # Tell tree-sitter which span changed, so it re-reads only that part: a keystroke in a
        # large file costs a fraction of a full parse. The old tree is copied, never edited.
        old = previous.text
        start = _common_prefix(old, self.text)
        tail = _common_suffix(old, self.text, min(len(old), len(self.text)) - start)
        old_end, new_end = len(old) - tail, len(self.text) - tail
        tree = previous.tree.copy()
        tree.edit(
            start_byte=previous._byte_of(start),
            old_end_byte=previous._byte_of(old_end),
            new_end_byte=self._byte_of(new_end),
            start_point=previous._point(start),
            old_end_point=previous._point(old_end),
            new_end_point=self._point(new_end),
        )
        return parser.parse(self._data, tree)

    def _byte_of(self, offset: int) -> int:
        # Without building the per-character byte table, which costs more than the parse saves.
        return offset if self._ascii else len(self.text[:offset].encode("utf-8"))

    def _point(self, offset: int) -> tuple[int, int]:
        row = self.line_of(offset)
        column = self.text[self._line_starts[row] : offset]
        return row, len(column) if self._ascii else len(column.encode("utf-8"))

    # --- offsets ---------------------------------------------------------------------------
    def _marks(self) -> list[int]:
        # Byte offset of every code point, built only for non-ASCII text.
        if self._byte_marks is None:
            marks = [0] * (len(self.text) + 1)
            total = 0
            for index, ch in enumerate(self.text):
                marks[index] = total
                code = ord(ch)
                total += 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
            marks[len(self.text)] = total
            self._byte_marks = marks
        return self._byte_marks

    def to_byte(self, offset: int) -> int:
        offset = max(0, min(offset, len(self.text)))
        return offset if self._ascii else self._marks()[offset]

    def to_offset(self, byte: int) -> int:
        if self._ascii:
            return max(0, min(byte, len(self.text)))
        marks = self._marks()
        return bisect.bisect_left(marks, byte)

    def node_span(self, node: Node) -> tuple[int, int]:
        return self.to_offset(node.start_byte), self.to_offset(node.end_byte)

    def node_text(self, node: Node) -> str:
        start, end = self.node_span(node)
        return self.text[start:end]

    def offset_at(self, line: int, character: int) -> int:
        if line < 0:
            return 0
        if line >= len(self._line_starts):
            return len(self.text)
        start = self._line_starts[line]
        end = (
            self._line_starts[line + 1] - 1 if line + 1 < len(self._line_starts) else len(self.text)
        )
        return min(start + max(character, 0), end)

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self._line_starts, offset) - 1

    def line_col(self, offset: int) -> tuple[int, int]:
        line = self.line_of(offset)
        return line, offset - self._line_starts[line]

    def line_span(self, line: int) -> tuple[int, int]:
        start = self._line_starts[line]
        end = (
            self._line_starts[line + 1] - 1 if line + 1 < len(self._line_starts) else len(self.text)
        )
        return start, end

    def remember(self, key: object, compute: Callable[[], _T]) -> _T:
        """``compute()`` once per parsed text: facts derived from it never change."""
        if key not in self._memo:
            self._memo[key] = compute()
        return cast(_T, self._memo[key])

    @property
    def line_index(self) -> LineIndex:
        """LSP position conversions for this text, built once."""
        return self.remember("line_index", lambda: LineIndex(self.text))

    @property
    def line_count(self) -> int:
        return len(self._line_starts)

    def node_at(self, start: int, end: int) -> Node:
        """The smallest node covering the span."""
        root = self.tree.root_node
        node = root.descendant_for_byte_range(self.to_byte(start), self.to_byte(end))
        return node if node is not None else root


@dataclass(frozen=True)
class Target:
    start: int
    end: int
    kind: str
    enclosing_start: int
    enclosing_end: int
    enclosing_kind: str
    enclosing_name: str | None


def _statement_at(src: SourceFile, offset: int) -> Node | None:
    node: Node | None = src.node_at(offset, offset)
    while node is not None and node.type not in _STATEMENTS:
        node = node.parent
    # An export wraps its declaration; the developer means the whole exported thing.
    if node is not None and node.parent is not None and node.parent.type == "export_statement":
        node = node.parent
    return node


def _cursor_offset(src: SourceFile, offset: int) -> int:
    """Move a cursor that sits in blank space onto the code the developer most likely means."""
    text = src.text
    line = src.line_of(offset)
    line_start, line_end = src.line_span(line)
    if text[line_start:line_end].strip():
        # On a line with code: from indentation or trailing space, step onto the code.
        stripped_start = (
            line_start + len(text[line_start:line_end]) - len(text[line_start:line_end].lstrip())
        )
        if offset <= stripped_start:
            return stripped_start
        if offset >= len(text[:line_end].rstrip()) and offset > line_start:
            return max(line_start, len(text[:line_end].rstrip()) - 1)
        return offset
    # A blank line: the next line with code.
    for next_line in range(line + 1, src.line_count):
        start, end = src.line_span(next_line)
        segment = text[start:end]
        if segment.strip():
            return start + len(segment) - len(segment.lstrip())
    return offset


def _route_name(src: SourceFile, call: Node) -> tuple[str, str] | None:
    """("route"|"plugin", name) for `app.get("/x", ...)`-style calls."""
    callee = call.child_by_field_name("function")
    if callee is None or callee.type != "member_expression":
        return None
    prop = callee.child_by_field_name("property")
    if prop is None:
        return None
    method = src.node_text(prop)
    args = call.child_by_field_name("arguments")
    first = args.named_children[0] if args is not None and args.named_children else None
    if method in _HTTP_METHODS:
        if first is None or first.type not in ("string", "template_string"):
            return None
        return "route", f"{method.upper()} {src.node_text(first).strip(chr(34) + chr(39) + '`')}"
    if method == "route" and first is not None and first.type == "object":
        http, url = "ROUTE", ""
        for pair in first.named_children:
            if pair.type != "pair":
                continue
            key = pair.child_by_field_name("key")
            value = pair.child_by_field_name("value")
            if key is None or value is None:
                continue
            name = src.node_text(key).strip("\"'")
            if name == "method":
                http = src.node_text(value).strip("\"'`[]").upper()
            elif name == "url":
                url = src.node_text(value).strip("\"'`")
        return "route", f"{http} {url}".strip()
    if method in _PLUGIN_CALLS and first is not None:
        return "plugin", f"register {src.node_text(first)}"
    return None


_TRPC_KINDS = {"query", "mutation", "subscription"}


def _trpc_procedure(src: SourceFile, call: Node) -> tuple[Node, str, str | None] | None:
    """`getUser: publicProcedure.input(...).query(async () => ...)` inside a tRPC router."""
    callee = call.child_by_field_name("function")
    prop = callee.child_by_field_name("property") if callee is not None else None
    if callee is None or prop is None or src.node_text(prop) not in _TRPC_KINDS:
        return None
    if "rocedure" not in src.node_text(callee):
        return None
    holder = call.parent
    if holder is not None and holder.type == "pair":
        key = holder.child_by_field_name("key")
        return holder, "procedure", src.node_text(key) if key is not None else None
    return call, "procedure", None


def _declaration_name(src: SourceFile, node: Node) -> str | None:
    name = node.child_by_field_name("name")
    if name is not None:
        return src.node_text(name)
    parent = node.parent
    if parent is not None and parent.type == "variable_declarator":
        inner = parent.child_by_field_name("name")
        return src.node_text(inner) if inner is not None else None
    return None


def _enclosing(src: SourceFile, node: Node) -> tuple[Node, str, str | None]:
    if node.type == "export_statement":
        declaration = node.child_by_field_name("declaration")
        if declaration is not None:
            holder, kind, name = _enclosing(src, declaration)
            return (node if holder == declaration else holder), kind, name
    if node.type in ("lexical_declaration", "variable_declaration") and node.named_children:
        value = node.named_children[0].child_by_field_name("value")
        if value is not None and value.type in _FUNCTIONS:
            return _enclosing(src, value)
    if node.type == "expression_statement" and node.named_children:
        # A whole route registration is its own enclosure, not a piece of its plugin.
        call = node.named_children[0]
        if call.type == "await_expression" and call.named_children:
            call = call.named_children[0]
        route = _route_name(src, call) if call.type == "call_expression" else None
        if route is not None:
            return node, route[0], route[1]
    current: Node | None = node
    while current is not None:
        if current.type == "call_expression":
            procedure = _trpc_procedure(src, current)
            if procedure is not None:
                return procedure
            route = _route_name(src, current)
            if route is not None:
                holder = current.parent if current.parent is not None else current
                if holder.type == "expression_statement":
                    return holder, route[0], route[1]
                return current, route[0], route[1]
        if current.type in _FUNCTIONS:
            name = _declaration_name(src, current)
            kind = "method" if current.type == "method_definition" else "function"
            holder = current
            # `const handler = async () => {}` reads best with its declaration.
            parent = current.parent
            if parent is not None and parent.type == "variable_declarator":
                grand = parent.parent
                holder = grand if grand is not None else parent
                if holder.parent is not None and holder.parent.type == "export_statement":
                    holder = holder.parent
            elif current.parent is not None and current.parent.type == "export_statement":
                holder = current.parent
            if current.type == "arrow_function" and name is None:
                current = current.parent
                continue
            return holder, kind, name
        if current.type in _CLASSES:
            holder = current
            if current.parent is not None and current.parent.type == "export_statement":
                holder = current.parent
            return holder, "class", _declaration_name(src, current)
        current = current.parent
    return node, "statement", None


def resolve_target(src: SourceFile, start: int, end: int) -> Target:
    """The code to act on. Empty or one-character selections mean the statement at the cursor."""
    start, end = sorted((max(0, min(start, len(src.text))), max(0, min(end, len(src.text)))))
    # Listing actions asks twice for the same span: once for the facts, once for the instruction.
    return src.remember(("target", start, end), lambda: _resolve_target(src, start, end))


def _resolve_target(src: SourceFile, start: int, end: int) -> Target:
    if end - start <= 1:
        cursor = _cursor_offset(src, start)
        node = _statement_at(src, cursor)
        if node is None:
            line_start, line_end = src.line_span(src.line_of(cursor))
            return Target(line_start, line_end, "line", line_start, line_end, "statement", None)
        # On the first line of a route registration, the developer means the whole route.
        route = _route_call_starting_on_line(src, node, src.line_of(cursor))
        if route is not None:
            node = route
        t_start, t_end = src.node_span(node)
        kind = node.type
    else:
        text = src.text[start:end]
        t_start = start + (len(text) - len(text.lstrip()))
        t_end = end - (len(text) - len(text.rstrip()))
        if t_end <= t_start:
            t_start, t_end = start, end
        node = src.node_at(t_start, t_end)
        kind = "selection"
    holder, enclosing_kind, name = _enclosing(src, node)
    e_start, e_end = src.node_span(holder)
    e_start, e_end = min(e_start, t_start), max(e_end, t_end)
    return Target(t_start, t_end, kind, e_start, e_end, enclosing_kind, name)


def _route_call_starting_on_line(src: SourceFile, node: Node, line: int) -> Node | None:
    current: Node | None = node
    while current is not None:
        if (
            current.type == "expression_statement"
            and src.line_of(src.node_span(current)[0]) == line
        ):
            call = current.named_children[0] if current.named_children else None
            if call is not None and call.type in ("call_expression", "await_expression"):
                inner = call.named_children[0] if call.type == "await_expression" else call
                if (
                    inner is not None
                    and inner.type == "call_expression"
                    and _route_name(src, inner)
                ):
                    return current
        current = current.parent
    return None


@dataclass(frozen=True)
class Instruction:
    agent: str | None
    text: str
    start: int
    end: int


@cache
def _comment_query(language: SyntaxLanguage) -> Query:
    return Query(_parser(language).language, "(comment) @comment")  # type: ignore[arg-type]


def _comments_in(src: SourceFile, start: int, end: int) -> list[Node]:
    """Comments touching the span, in order. The query runs in C over only the nodes at the span:
    a walk in Python visits every node of a route handler to find its two comments."""
    b_start, b_end = src.to_byte(start), src.to_byte(end)
    found = _captures(_comment_query(src.language), src.tree.root_node, b_start, b_end)
    return [n for n in found.get("comment", []) if n.start_byte <= b_end and n.end_byte >= b_start]


def _instruction_from(src: SourceFile, comments: list[Node], index: int) -> Instruction | None:
    first = comments[index]
    lines = src.node_text(first).splitlines()
    match = _INSTRUCTION.match(lines[0]) if lines else None
    if match is None:
        return None
    agent = None if match[1] == "agent" else match[1]
    parts = [match[2]]
    parts += [_COMMENT_TEXT.match(line)[1] for line in lines[1:] if _COMMENT_TEXT.match(line)]  # type: ignore[index]
    start, end = src.node_span(first)
    last_line = src.line_of(end)
    # Following `//` lines continue the instruction until a new `@x:` or a gap.
    for follower in comments[index + 1 :]:
        f_start, f_end = src.node_span(follower)
        if src.line_of(f_start) != last_line + 1:
            break
        text = src.node_text(follower)
        if _INSTRUCTION.match(text):
            break
        body = _COMMENT_TEXT.match(text)
        parts.append(body[1] if body else text)
        end, last_line = f_end, src.line_of(f_end)
    joined = " ".join(part.strip() for part in parts if part.strip())
    if not joined:
        return None
    return Instruction(agent, joined, start, end)


def find_instruction(src: SourceFile, start: int, end: int) -> Instruction | None:
    """An `@agent:` comment inside the selection, at the end of the cursor's line, or right above."""
    start, end = sorted((start, end))
    target = resolve_target(src, start, end)
    first_line = src.line_of(target.start)
    cursor_line = src.line_of(start)
    line_start, line_end = src.line_span(cursor_line)
    # Far enough up to see the first line of a multi-line instruction above the target.
    look_from = src.line_span(max(first_line - 12, 0))[0]
    scan_start = min(start, look_from, line_start)
    scan_end = max(end, line_end)
    comments = _comments_in(src, scan_start, scan_end)
    if not comments:
        return None
    # Inside the selection first.
    if end - start > 1:
        for index, node in enumerate(comments):
            c_start, c_end = src.node_span(node)
            if c_start >= start and c_end <= end:
                found = _instruction_from(src, comments, index)
                if found is not None:
                    return found
    # At the end of the cursor's line, or ending on the line right above the target.
    for index, node in enumerate(comments):
        c_start, _ = src.node_span(node)
        same_line = src.line_of(c_start) == cursor_line
        found = _instruction_from(src, comments, index) if same_line else None
        if found is not None:
            return found
    for index in range(len(comments)):
        found = _instruction_from(src, comments, index)
        if found is not None and src.line_of(found.end) == first_line - 1:
            return found
    # The target itself may begin with the comment (an empty selection on the comment line).
    for index, node in enumerate(comments):
        c_start, _ = src.node_span(node)
        if target.start <= c_start < target.end:
            found = _instruction_from(src, comments, index)
            if found is not None:
                return found
    return None


@dataclass(frozen=True)
class CodeFacts:
    in_route: bool
    route_method: str | None
    route_path: str | None
    route_has_schema: bool
    uses_zod: bool
    has_db_query: bool
    has_try_catch: bool
    has_await: bool
    sets_status: bool
    is_function_like: bool
    identifiers: frozenset[str]


def _route_call_around(src: SourceFile, node: Node) -> Node | None:
    current: Node | None = node
    while current is not None:
        if current.type == "call_expression":
            route = _route_name(src, current)
            if route is not None and route[0] == "route":
                return current
        current = current.parent
    return None


def _route_call_within(src: SourceFile, node: Node) -> Node | None:
    """The first route registration inside ``node``, in document order."""
    found = _captures(_facts_query(src.language), node, node.start_byte, node.end_byte)
    for call in found.get("call", []):
        route = _route_name(src, call)
        if route is not None and route[0] == "route":
            return call
    return None


def _has_schema(src: SourceFile, call: Node) -> bool:
    args = call.child_by_field_name("arguments")
    if args is None:
        return False
    for arg in args.named_children:
        if arg.type != "object":
            continue
        for pair in arg.named_children:
            key = pair.child_by_field_name("key") if pair.type == "pair" else None
            if key is not None and src.node_text(key).strip("\"'") == "schema":
                return True
            if pair.type == "shorthand_property_identifier" and src.node_text(pair) == "schema":
                return True
    return False


def code_facts(src: SourceFile, target: Target) -> CodeFacts:
    node = src.node_at(target.start, target.end)
    # The smallest node may be a piece of the selection; widen to everything the selection covers.
    b_start, b_end = src.to_byte(target.start), src.to_byte(target.end)
    while node.parent is not None and (node.start_byte > b_start or node.end_byte < b_end):
        node = node.parent
    route = _route_call_around(src, node) or _route_call_within(src, node)
    method = path = None
    if route is not None:
        name = _route_name(src, route)
        if name is not None:
            method, _, path = name[1].partition(" ")
    identifiers: set[str] = set()
    uses_zod = has_db = sets_status = False
    # Only what the selection touches counts, except the node itself, which always contains it.
    captured = {
        name: [n for n in nodes if n == node or (n.end_byte > b_start and n.start_byte < b_end)]
        for name, nodes in _captures(_facts_query(src.language), node, b_start, b_end).items()
    }
    data = src._data
    for name_node in captured.get("name", []):
        identifiers.add(data[name_node.start_byte : name_node.end_byte].decode("utf-8"))
    has_try = bool(captured.get("try"))
    has_await = bool(captured.get("await"))
    is_function = bool(captured.get("function"))
    for call in captured.get("call", []):
        callee = call.child_by_field_name("function")
        if callee is None or callee.type != "member_expression":
            continue
        obj = callee.child_by_field_name("object")
        prop = callee.child_by_field_name("property")
        obj_text = src.node_text(obj) if obj is not None else ""
        prop_text = src.node_text(prop) if prop is not None else ""
        root_name = obj_text.split(".", 1)[0].split("(", 1)[0]
        if root_name == "z" or prop_text in ("parse", "safeParse", "parseAsync"):
            uses_zod = True
        is_db_call = prop_text in _DB_METHODS or prop_text in _QUERY_METHODS
        is_builder = prop_text in ("from", "where", "innerJoin", "leftJoin", "orderBy")
        if _DB_RECEIVER.match(root_name) and (is_db_call or is_builder):
            has_db = True
        if prop_text in ("code", "status"):
            args = call.child_by_field_name("arguments")
            if args is not None and args.named_children and args.named_children[0].type == "number":
                sets_status = True
    if not is_function:
        is_function = any(
            p.type in _FUNCTIONS for p in _ancestors(node)
        ) and target.enclosing_kind in ("function", "method")
    return CodeFacts(
        in_route=route is not None,
        route_method=method,
        route_path=path,
        route_has_schema=_has_schema(src, route) if route is not None else False,
        uses_zod=uses_zod,
        has_db_query=has_db,
        has_try_catch=has_try or any(p.type == "try_statement" for p in _ancestors(node)),
        has_await=has_await,
        sets_status=sets_status,
        is_function_like=is_function,
        identifiers=frozenset(identifiers),
    )


def _ancestors(node: Node) -> list[Node]:
    out = []
    current = node.parent
    while current is not None:
        out.append(current)
        current = current.parent
    return out


@dataclass(frozen=True)
class ImportDecl:
    source: str
    names: tuple[str, ...]
    """Local names bound, in order."""
    type_only: bool
    start: int
    end: int
    bindings: tuple[tuple[str, str], ...] = ()
    """(local name, imported name); the imported name is "default" or "*" for those forms."""


def imports(src: SourceFile) -> list[ImportDecl]:
    return src.remember("imports", lambda: _read_imports(src))


def _read_imports(src: SourceFile) -> list[ImportDecl]:
    found: list[ImportDecl] = []
    for node in src.tree.root_node.named_children:
        if node.type != "import_statement":
            continue
        source_node = node.child_by_field_name("source")
        if source_node is None:
            continue
        bindings: list[tuple[str, str]] = []
        type_only = any(child.type == "type" for child in node.children)
        for clause in (c for c in node.named_children if c.type == "import_clause"):
            for part in clause.named_children:
                if part.type == "identifier":
                    bindings.append((src.node_text(part), "default"))
                elif part.type == "namespace_import":
                    bindings += [
                        (src.node_text(c), "*")
                        for c in part.named_children
                        if c.type == "identifier"
                    ]
                elif part.type == "named_imports":
                    for spec in part.named_children:
                        name = spec.child_by_field_name("name")
                        if spec.type != "import_specifier" or name is None:
                            continue
                        alias = spec.child_by_field_name("alias")
                        local = alias if alias is not None else name
                        bindings.append((src.node_text(local), src.node_text(name)))
        start, end = src.node_span(node)
        found.append(
            ImportDecl(
                src.node_text(source_node).strip("\"'"),
                tuple(local for local, _ in bindings),
                type_only,
                start,
                end,
                tuple(bindings),
            )
        )
    return found


@cache
def _identifier_query(language: SyntaxLanguage) -> Query:
    return Query(
        _parser(language).language,  # type: ignore[arg-type]
        "[(identifier) (type_identifier) (shorthand_property_identifier)] @name",
    )


@cache
def _facts_query(language: SyntaxLanguage) -> Query:
    functions = " ".join(f"({kind})" for kind in sorted(_FUNCTIONS))
    return Query(
        _parser(language).language,  # type: ignore[arg-type]
        f"""
        [(identifier) (type_identifier) (shorthand_property_identifier)] @name
        (try_statement) @try
        (await_expression) @await
        [{functions}] @function
        (call_expression) @call
        """,
    )


def _captures(query: Query, node: Node, b_start: int, b_end: int) -> dict[str, list[Node]]:
    """What ``query`` captures inside ``node`` near the byte span, found in C, in document order."""
    cursor = QueryCursor(query)
    # One byte wider on each side, so nodes that only touch the span are seen and judged by the
    # caller; an empty span still finds the node at it.
    cursor.set_byte_range(max(b_start - 1, 0), b_end + 1)
    found = cursor.captures(node)
    for nodes in found.values():
        nodes.sort(key=lambda n: n.start_byte)
    return found


def identifiers_in(src: SourceFile, start: int, end: int) -> frozenset[str]:
    """Every identifier (value or type) used between two offsets; memoised per file."""

    def read() -> frozenset[str]:
        cursor = QueryCursor(_identifier_query(src.language))
        cursor.set_byte_range(src.to_byte(start), src.to_byte(end))
        data = src._data
        return frozenset(
            data[node.start_byte : node.end_byte].decode("utf-8")
            for node in cursor.captures(src.tree.root_node).get("name", [])
        )

    return src.remember(("identifiers", start, end), read)
