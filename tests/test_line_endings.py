"""CRLF, CR and mixed line endings give the same positions as LF through every path: targets,
instruction comments, hover facts, and the numbered lines the model reads."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol.types import Position

from subagent_lsp.backend.hover_facts import static_facts
from subagent_lsp.backend.targets import target_at
from subagent_lsp.context.gather import numbered
from subagent_lsp.syntax import SourceFile, find_instruction

CODE = """\
import { db } from "./db.js";

export async function routes(app: App) {
  // @agent: return 404 when missing
  app.get("/orders/:id", async (request, reply) => {
    const rows = await db.select().from(orders).where(eq(orders.id, 1));
    return rows[0];
  });
}
"""

ENDINGS = {
    "LF": lambda text: text,
    "CRLF": lambda text: text.replace("\n", "\r\n"),
    "CR": lambda text: text.replace("\n", "\r"),
    "mixed": lambda text: "".join(
        line + ("\r\n" if index % 2 else "\n") for index, line in enumerate(text.split("\n")[:-1])
    ),
}


def _positions(src: SourceFile, *offsets: int) -> list[tuple[int, int]]:
    return [(p.line, p.character) for p in (src.lines.position(o) for o in offsets)]


def _reading(text: str, line: int, character: int) -> dict[str, object]:
    src = SourceFile(text, "typescript")
    at = src.lines.offset(Position(line=line, character=character))
    target = target_at(src, at, at)
    instruction = find_instruction(src, at, at, target)
    facts = static_facts(src, at, lambda name: None, lambda path: path.name)
    first, last = src.line_of(target.enclosing_start), src.line_of(target.enclosing_end)
    return {
        "target": _positions(src, target.start, target.end),
        "enclosing": (
            _positions(src, target.enclosing_start, target.enclosing_end),
            target.enclosing_kind,
            target.enclosing_name,
        ),
        "instruction": instruction.text if instruction else None,
        "facts": (facts.markdown, _positions(src, facts.start, facts.end)) if facts else None,
        "numbered": numbered(src.lines, first, last, (first, first)),
        "lines": src.line_count,
    }


@pytest.mark.parametrize("ending", sorted(ENDINGS))
@pytest.mark.parametrize(
    ("line", "character"),
    [(4, 2), (4, 6), (5, 10), (5, 40), (6, 4), (1, 0), (8, 0)],
)
def test_every_line_ending_reads_like_lf(ending: str, line: int, character: int) -> None:
    expected = _reading(CODE, line, character)
    assert _reading(ENDINGS[ending](CODE), line, character) == expected


def test_a_line_ends_before_its_carriage_return() -> None:
    src = SourceFile("a;\r\nb;\rc;\n", "typescript")
    assert [src.line_span(n) for n in range(src.line_count)] == [(0, 2), (4, 6), (7, 9), (10, 10)]
    assert src.line_of(3) == 0  # between \r and \n
    assert src.line_col(src.text.index("c")) == (2, 0)


def test_the_route_facts_are_found_in_a_crlf_file(tmp_path: Path) -> None:
    src = SourceFile(ENDINGS["CRLF"](CODE), "typescript")
    at = src.lines.offset(Position(line=4, character=4))
    facts = static_facts(src, at, lambda name: None, lambda path: path.name)
    assert facts is not None and facts.markdown.startswith("**GET /orders/:id** · Fastify route")
    assert "lines 5–8" in facts.markdown
