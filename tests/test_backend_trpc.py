"""tRPC procedures on hover: kind, base procedure and middleware, input and output, handler."""

from __future__ import annotations

from pathlib import Path

import pytest

from subagent_lsp.backend.hover_facts import static_facts
from subagent_lsp.syntax import SourceFile, Symbol, declarations

TRPC = """\
const isAuthed = t.middleware(({ ctx, next }) => next({ ctx }));
export const protectedProcedure = t.procedure.use(isAuthed);
export const createPost = z.object({ title: z.string().min(1), body: z.string() });

export const postRouter = router({
  create: protectedProcedure
    .use(rateLimit({ max: 5 }))
    .input(createPost)
    .output(postSchema)
    .mutation(async ({ input, ctx }) => {
      return ctx.db.insert(posts).values(input);
    }),
  byId: publicProcedure.input(z.object({ id: z.string().uuid() })).query(getPost),
  onAdd: t.procedure.subscription(() => observable(() => {})),
});
"""


def _lines(needle: str, delta: int = 0) -> list[str] | None:
    src = SourceFile(TRPC, "typescript")

    def find(name: str) -> Symbol | None:
        found = declarations(src)
        return Symbol(Path("/w/trpc.ts"), src, found[name]) if name in found else None

    facts = static_facts(src, TRPC.index(needle) + delta, find, lambda p: p.name)
    if facts is None:
        return None
    return [facts.kind, *facts.markdown.splitlines()]


CREATE = [
    "procedure",
    "**create** · tRPC mutation",
    "- procedure: `protectedProcedure`; middleware: `isAuthed`, `rateLimit({ max: 5 })`",
    "- input: `createPost` (defined in `trpc.ts:3`)",
    "  - title: string (min)",
    "  - body: string",
    "- output: `postSchema` (not found)",
    "- handler: inline async function, lines 10–12",
]


@pytest.mark.parametrize(
    ("needle", "expected"),
    [
        ("create:", CREATE),
        (".mutation(", CREATE),
        (".use(rateLimit", CREATE),
        (
            "byId",
            [
                "procedure",
                "**byId** · tRPC query",
                "- procedure: `publicProcedure`; middleware: none",
                "- input: inline Zod object",
                "  - id: string (uuid)",
                "- output: none declared",
                "- handler: `getPost`",
            ],
        ),
        (
            "onAdd",
            [
                "procedure",
                "**onAdd** · tRPC subscription",
                "- procedure: `t.procedure`; middleware: none",
                "- input: none declared",
                "- output: none declared",
                "- handler: inline function, lines 14–14",
            ],
        ),
    ],
)
def test_a_procedure_hover_shows_kind_middleware_input_output_and_handler(
    needle: str, expected: list[str]
) -> None:
    assert _lines(needle, 1) == expected


def test_code_inside_a_procedure_handler_is_not_the_procedure() -> None:
    lines = _lines("ctx.db.insert", 4)
    assert lines is not None and lines[0] == "query"
