"""A parsed TypeScript text: the tree, the one line table, and offset conversions.

Every public function of `syntax/` takes and returns absolute character offsets into the Python
string (code points). tree-sitter works in UTF-8 bytes; the conversion happens here and nowhere
else.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from functools import cache
from typing import Literal, TypeVar, cast

import tree_sitter_typescript
from tree_sitter import Language, Node, Parser, Query, QueryCursor, Tree

from ..positions import LineIndex, utf8_width

SyntaxLanguage = Literal["typescript", "tsx"]
_T = TypeVar("_T")

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


@cache
def compiled(language: SyntaxLanguage, source: str) -> Query:
    """A tree-sitter query, compiled once per language."""
    return Query(_parser(language).language, source)  # type: ignore[arg-type]


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
        # A lone surrogate (typed as a JSON escape) passes through as the bytes it would take.
        self.data = text.encode("utf-8", "surrogatepass")
        """The UTF-8 bytes tree-sitter parsed; node byte offsets index into it."""
        self._ascii = len(self.data) == len(text)
        self.lines = LineIndex(text)
        self._byte_marks: list[int] | None = None
        # Derived facts (declarations, identifiers) computed once per parsed text: see remember().
        self._memo: dict[object, object] = {}
        self.tree: Tree = self._parse(previous)

    def _parse(self, previous: SourceFile | None) -> Tree:
        parser = _parser(self.language)
        if previous is None or previous.language != self.language:
            return parser.parse(self.data)
        # Tell tree-sitter which span changed, so it re-reads only that part: a keystroke in a
        # large file costs a fraction of a full parse. The old tree is copied, never edited.
        old = previous.text
        start = _common_prefix(old, self.text)
        tail = _common_suffix(old, self.text, min(len(old), len(self.text)) - start)
        old_end, new_end = len(old) - tail, len(self.text) - tail
        tree = previous.tree.copy()
        tree.edit(
            start_byte=previous.to_byte(start),
            old_end_byte=previous.to_byte(old_end),
            new_end_byte=self.to_byte(new_end),
            start_point=previous._point(start),
            old_end_point=previous._point(old_end),
            new_end_point=self._point(new_end),
        )
        return parser.parse(self.data, tree)

    def _point(self, offset: int) -> tuple[int, int]:
        # tree-sitter's own rows: it counts `\n` only, whatever the document's line endings.
        row = self.text.count("\n", 0, offset)
        line_start = self.text.rfind("\n", 0, offset) + 1
        return row, self.to_byte(offset) - self.to_byte(line_start)

    # --- offsets ---------------------------------------------------------------------------
    def _marks(self) -> list[int]:
        # Byte offset of every code point, built only for non-ASCII text, and only when asked:
        # building it costs more than an incremental parse saves.
        if self._byte_marks is None:
            marks = [0] * (len(self.text) + 1)
            total = 0
            for index, ch in enumerate(self.text):
                marks[index] = total
                total += utf8_width(ord(ch))
            marks[len(self.text)] = total
            self._byte_marks = marks
        return self._byte_marks

    def to_byte(self, offset: int) -> int:
        offset = max(0, min(offset, len(self.text)))
        return offset if self._ascii else self._marks()[offset]

    def to_offset(self, byte: int) -> int:
        if self._ascii:
            return max(0, min(byte, len(self.text)))
        return bisect.bisect_left(self._marks(), byte)

    def node_span(self, node: Node) -> tuple[int, int]:
        return self.to_offset(node.start_byte), self.to_offset(node.end_byte)

    def node_text(self, node: Node) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "surrogatepass")

    # --- lines (one table, `LineIndex`, for every line ending) ------------------------------
    def offset_at(self, line: int, character: int) -> int:
        return self.lines.offset_at(line, character)

    def line_of(self, offset: int) -> int:
        return self.lines.line_of(offset)

    def line_col(self, offset: int) -> tuple[int, int]:
        line = self.line_of(offset)
        return line, offset - self.lines.starts[line]

    def line_span(self, line: int) -> tuple[int, int]:
        return self.lines.line_bounds(line)

    @property
    def line_count(self) -> int:
        return self.lines.line_count

    def remember(self, key: object, compute: Callable[[], _T]) -> _T:
        """``compute()`` once per parsed text: facts derived from it never change."""
        if key not in self._memo:
            self._memo[key] = compute()
        return cast(_T, self._memo[key])

    def node_at(self, start: int, end: int) -> Node:
        """The smallest node covering the span."""
        root = self.tree.root_node
        node = root.descendant_for_byte_range(self.to_byte(start), self.to_byte(end))
        return node if node is not None else root

    def captures(self, query: str, node: Node, start: int, end: int) -> dict[str, list[Node]]:
        """What ``query`` captures inside ``node`` near the span, found in C, in document order.

        The query runs over only the nodes at the span: a walk in Python visits every node of a
        route handler to find its two comments.
        """
        cursor = QueryCursor(compiled(self.language, query))
        # One byte wider on each side, so nodes that only touch the span are seen and judged by
        # the caller; an empty span still finds the node at it.
        b_start, b_end = self.to_byte(start), self.to_byte(end)
        cursor.set_byte_range(max(b_start - 1, 0), b_end + 1)
        found = cursor.captures(node)
        for nodes in found.values():
            nodes.sort(key=lambda n: n.start_byte)
        return found


IDENTIFIERS = "[(identifier) (type_identifier) (shorthand_property_identifier)] @name"


def identifiers_in(src: SourceFile, start: int, end: int) -> frozenset[str]:
    """Every identifier (value or type) used between two offsets; memoised per file."""

    def read() -> frozenset[str]:
        cursor = QueryCursor(compiled(src.language, IDENTIFIERS))
        cursor.set_byte_range(src.to_byte(start), src.to_byte(end))
        data = src.data
        return frozenset(
            data[node.start_byte : node.end_byte].decode("utf-8", "surrogatepass")
            for node in cursor.captures(src.tree.root_node).get("name", [])
        )

    return src.remember(("identifiers", start, end), read)
