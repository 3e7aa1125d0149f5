"""Calls of a method through an object, found by its name and what the receiver is called."""

from __future__ import annotations

from pathlib import Path

import pytest

from subagent_lsp.backend.usage import use_site
from subagent_lsp.context.members import method_calls, owner_names, selected_method
from subagent_lsp.syntax.source import SourceFile
from subagent_lsp.syntax.targets import Target

CALLER = (
    "export class Handler {\n"
    "  async list() {\n"
    "    const rows = await this.articleService.listAll(1);\n"
    "    return other.listAll(rows);\n"
    "  }\n"
    "}\n"
)

CASES = [
    # A file that imports the owner: any receiver.
    (None, [2, 3]),
    # Any other: only a receiver named after the class or its file.
    (owner_names(Path("article.service.ts"), "ArticleService"), [2]),
    (owner_names(Path("bookings.repository.ts"), "createBookingsRepository"), []),
]


@pytest.mark.parametrize(("owners", "lines"), CASES)
def test_method_calls_follow_the_receiver_name(
    owners: frozenset[str] | None, lines: list[int]
) -> None:
    src = SourceFile(CALLER, "typescript")
    found = method_calls(src, "listAll", owners, None)
    assert [src.line_of(src.node_span(n)[0]) for n in found] == lines


def test_a_method_call_is_a_call_shown_with_its_method() -> None:
    src = SourceFile(CALLER, "typescript")
    (node, *_) = method_calls(src, "listAll", None, None)
    site = use_site(src, node, "listAll")
    assert site.kind == "call"
    assert [(src.line_of(a), src.line_of(b - 1)) for a, b in site.spans] == [(1, 4)]


SELECTED = [
    ("class A {\n  get(id: string) {\n    return id;\n  }\n}\n", "return", "get"),
    ("export const repo = {\n  find: async () => 1,\n};\n", "1", "find"),
    ("export function f() {\n  return 1;\n}\n", "return", None),
]


@pytest.mark.parametrize(("code", "at", "method"), SELECTED)
def test_the_selected_method(code: str, at: str, method: str | None) -> None:
    src = SourceFile(code, "typescript")
    start = code.index(at)
    end = start + len(at)
    target = Target(start, end, "expression", start, end, "statement", None)
    assert selected_method(src, target) == method
