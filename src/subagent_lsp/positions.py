"""LSP positions <-> code-point offsets, in every position encoding a client may choose."""

from __future__ import annotations

import bisect
import re

from lsprotocol.types import Position, PositionEncodingKind

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def encoding_name(encoding: str | PositionEncodingKind | None) -> str:
    """The position encoding's plain name; a client that names none gets LSP's default, UTF-16."""
    value = getattr(encoding, "value", encoding)
    return str(value) if value else "utf-16"


def utf8_width(code: int) -> int:
    """Bytes UTF-8 takes for one code point."""
    return 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4


def _units(ch: str, encoding: str) -> int:
    code = ord(ch)
    if encoding == "utf-8":
        return utf8_width(code)
    if encoding == "utf-32":
        return 1
    return 2 if code > 0xFFFF else 1


class LineIndex:
    """Line starts of a text, computed once for repeated conversions.

    The one line table of the project: `\r\n`, `\r` and `\n` each end a line, as LSP says, so
    every path (positions, targets, context line numbers) counts lines the same way.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._ascii = text.isascii()
        self.starts = [0]
        self._ends = []
        if "\r" in text:
            for match in _LINE_BREAK.finditer(text):
                self._ends.append(match.start())
                self.starts.append(match.end())
        else:
            # The common case, without a regex: every line break is a single \n.
            at = text.find("\n")
            while at >= 0:
                self._ends.append(at)
                self.starts.append(at + 1)
                at = text.find("\n", at + 1)
        self._ends.append(len(text))

    @property
    def line_count(self) -> int:
        return len(self.starts)

    def line_bounds(self, line: int) -> tuple[int, int]:
        """(start, end) of the line's content, excluding its line break."""
        return self.starts[line], self._ends[line]

    def line_of(self, offset: int) -> int:
        """The line an offset is on; an offset inside a `\r\n` belongs to the line it ends."""
        return bisect.bisect_right(self.starts, max(offset, 0)) - 1

    def offset_at(self, line: int, character: int) -> int:
        """The offset of a code-point column on a line, clamped to the line's content."""
        if line < 0:
            return 0
        if line >= len(self.starts):
            return len(self.text)
        start, end = self.line_bounds(line)
        return min(start + max(character, 0), end)

    def offset(self, position: Position, encoding: str | PositionEncodingKind = "utf-16") -> int:
        name = encoding_name(encoding)
        if position.line >= len(self.starts):
            return len(self.text)
        start, end = self.line_bounds(max(position.line, 0))
        wanted = max(position.character, 0)
        if name == "utf-32" or self._ascii:
            return min(start + wanted, end)
        units = 0
        offset = start
        while offset < end:
            step = _units(self.text[offset], name)
            # A position inside a surrogate pair or a UTF-8 sequence rounds down.
            if units + step > wanted:
                break
            units += step
            offset += 1
        return offset

    def position(self, offset: int, encoding: str | PositionEncodingKind = "utf-16") -> Position:
        name = encoding_name(encoding)
        offset = max(0, min(offset, len(self.text)))
        line = self.line_of(offset)
        start, end = self.line_bounds(line)
        # An offset between \r and \n belongs to the end of the line.
        column_end = min(offset, end)
        segment = self.text[start:column_end]
        if name == "utf-32" or self._ascii or segment.isascii():
            return Position(line=line, character=len(segment))
        return Position(line=line, character=sum(_units(ch, name) for ch in segment))


def position_to_offset(
    text: str, position: Position, encoding: str | PositionEncodingKind = "utf-16"
) -> int:
    return LineIndex(text).offset(position, encoding)


def offset_to_position(
    text: str, offset: int, encoding: str | PositionEncodingKind = "utf-16"
) -> Position:
    return LineIndex(text).position(offset, encoding)


# --- line endings: what the model reads and writes uses `\n`; a file keeps its own -------------
_BREAKS = re.compile(r"\r\n|\r|\n")


def with_line_feeds(text: str) -> str:
    """Every line break as `\\n`: the text as the model reads it."""
    return _BREAKS.sub("\n", text) if "\r" in text else text


def with_breaks(text: str, ending: str) -> str:
    """Every line break of ``text`` as ``ending``."""
    return _BREAKS.sub(ending, text) if ending != "\n" or "\r" in text else text


def common_break(text: str) -> str:
    """The line break most lines of ``text`` end with; `\\n` where there is none."""
    crlf = text.count("\r\n")
    counts = {"\r\n": crlf, "\n": text.count("\n") - crlf, "\r": text.count("\r") - crlf}
    best = max(counts, key=lambda ending: counts[ending])
    return best if counts[best] else "\n"


def line_break(lines: LineIndex, line: int) -> str:
    """The break that ends ``line`` ("" for a last line without one)."""
    _, end = lines.line_bounds(line)
    following = lines.starts[line + 1] if line + 1 < len(lines.starts) else end
    return lines.text[end:following]


def offset_from_line_feeds(text: str, offset: int) -> int:
    """The offset in ``text`` of an offset into `with_line_feeds(text)`: each `\\r\\n` before it
    is one character longer there."""
    if "\r\n" not in text:
        return offset
    folded = [match.start() - index for index, match in enumerate(re.finditer("\r\n", text))]
    return offset + bisect.bisect_left(folded, offset)
