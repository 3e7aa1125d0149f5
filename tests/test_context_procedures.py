"""Where a tRPC procedure is called from, through its router path, and which procedure a call
through a router path runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from subagent_lsp.backend.trpc import entry_path
from subagent_lsp.context.items import Context
from subagent_lsp.syntax.declarations import declarations
from subagent_lsp.syntax.source import SourceFile
from tests.helpers import context_at, copy_fixture

ROUTERS = """\
export const appRouter = createTRPCRouter({
  health: createTRPCRouter({ ping: publicProcedure.query(() => 1) }),
  post: postRouter,
});
export const postRouter = {
  byId: publicProcedure.input(x).query(() => 1),
} satisfies TRPCRouterRecord;
export const adminRouter = t.router({ stats: adminProcedure.query(() => 2) });
const options = { retries: 3 };
"""

ENTRIES = [
    ("ping", ("appRouter", ["health", "ping"])),
    ("post:", ("appRouter", ["post"])),
    ("byId", ("postRouter", ["byId"])),
    ("stats", ("adminRouter", ["stats"])),
    ("retries", None),
]


@pytest.mark.parametrize(("needle", "expected"), ENTRIES)
def test_the_router_an_entry_is_in_and_its_keys(
    needle: str, expected: tuple[str, list[str]] | None
) -> None:
    src = SourceFile(ROUTERS, "typescript")
    at = ROUTERS.index(needle)
    pair = src.node_at(at, at + 2)
    while pair.type != "pair":
        assert pair.parent is not None
        pair = pair.parent
    assert entry_path(src, pair) == expected


BOUND = [
    ("export const { useTRPC, TRPCProvider } = createTRPCContext();", {"useTRPC", "TRPCProvider"}),
    ("export const { handlers: h, auth = fallback } = NextAuth(c);", {"h", "auth"}),
    ("const [first, second] = pair;", {"first", "second"}),
    ("export const api = createClient();", {"api"}),
]


@pytest.mark.parametrize(("code", "names"), BOUND)
def test_a_destructured_declaration_declares_each_name_it_binds(code: str, names: set[str]) -> None:
    assert set(declarations(SourceFile(code, "typescript"))) == names


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_fixture(tmp_path, "trpc-app")


def _reasons(context: Context, path: str) -> list[str]:
    return [item.reason for item, _ in context.items if item.path == path]


def test_a_procedure_gets_the_client_calls_through_its_router_path(project: Path) -> None:
    context = context_at(project, "src/routers/notes.ts", "byId:")
    (reason,) = _reasons(context, "src/client/note-view.tsx")
    assert reason.startswith("calls the procedure as `notes.byId`")
    # Another procedure's client is not this one's.
    assert _reasons(context, "src/client/note-form.tsx") == []


def test_a_client_that_validates_with_the_input_schema_shows_it_with_the_call(
    project: Path,
) -> None:
    context = context_at(project, "src/routers/notes.ts", "create:")
    (item,) = [item for item, _ in context.items if item.path == "src/client/note-form.tsx"]
    assert "validates with `CreateNoteInput` there too" in item.reason
    assert "api.notes.create.useMutation()" in item.text
    assert "onSubmit: CreateNoteInput" in item.text


def test_a_server_side_caller_gets_the_procedure_it_runs(project: Path) -> None:
    context = context_at(project, "src/jobs/digest.ts", "const { rows }")
    shown = {(item.path, item.symbol): item for item, _ in context.items}
    item = shown[("src/routers/notes.ts", "notes.mine")]
    assert "`api.notes.mine({ limit: 5 })` runs" in item.reason
    assert item.text.startswith("mine: notesProcedure")
    # A procedure of a server-side caller reaches its callers the other way round, too.
    mine = context_at(project, "src/routers/notes.ts", "mine:")
    callers = _reasons(mine, "src/jobs/digest.ts")
    assert callers and callers[0].startswith("calls the procedure as `notes.mine`")
    # A client hook exported by destructuring (`export const { useTRPC } = …`) is followed.
    assert _reasons(mine, "src/client/note-list.tsx")


def test_a_router_mounted_nowhere_gets_no_callers_by_a_bare_procedure_name(project: Path) -> None:
    (project / "src/routers/drafts.ts").write_text(
        'import { createRouter, publicProcedure } from "../trpc.js";\n\n'
        "export const draftsRouter = createRouter({\n"
        '  create: publicProcedure.mutation(() => "draft"),\n'
        "});\n",
        encoding="utf-8",
    )
    (project / "src/client/drafts.ts").write_text(
        'import type { draftsRouter } from "../routers/drafts.js";\n\n'
        "export type Drafts = typeof draftsRouter;\n"
        "export const store = new Map<string, string>();\n"
        'store.set("a", "b");\n'
        "export const created = Object.create(null);\n",
        encoding="utf-8",
    )
    context = context_at(project, "src/routers/drafts.ts", "create:")
    reasons = _reasons(context, "src/client/drafts.ts")
    assert not [r for r in reasons if r.startswith("calls the procedure")]
