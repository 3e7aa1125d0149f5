"""What a selection reaches without importing it by name: the context a tRPC procedure reads as
`ctx`, and the modules a dependency-injection container hands it by file name."""

from __future__ import annotations

from pathlib import Path

import pytest

from subagent_lsp.backend.trpc import context_type
from subagent_lsp.context.items import Context
from subagent_lsp.context.members import enclosing_callable
from subagent_lsp.syntax.source import SourceFile
from tests.helpers import context_at, copy_fixture, workspace_index

CONTEXT_TYPES = [
    ("const t = initTRPC.context<typeof createContext>().create();", "createContext"),
    ("export const t = initTRPC\n  .context<Context>()\n  .meta<Meta>()\n  .create();", "Context"),
    ("const t = initTRPC.context<{ user: User | null }>().create();", None),
    ("const t = initTRPC.create();", None),
    ("const x = other.context<typeof createContext>();", None),
]


@pytest.mark.parametrize(("code", "name"), CONTEXT_TYPES)
def test_the_context_a_trpc_instance_is_given(code: str, name: str | None) -> None:
    found = context_type(SourceFile(code, "typescript"))
    assert (found[0] if found else None) == name


def _shown(context: Context) -> dict[tuple[str, str | None], str]:
    return {(item.path, item.symbol): item.reason for item, _ in context.items}


FILE_NAMES = [
    ("ordersRepository", ["src/modules/orders/orders.repository.ts"]),
    ("invoicesRepository", ["src/modules/invoices/invoices.repository.ts"]),
    ("ordersService", []),
    ("ordersRouter", ["src/modules/orders/orders.router.ts"]),
]


@pytest.mark.parametrize(("name", "files"), FILE_NAMES)
def test_the_index_finds_a_module_by_the_name_a_container_gives_it(
    tmp_path: Path, name: str, files: list[str]
) -> None:
    root = copy_fixture(tmp_path, "di-app")
    _, refs = workspace_index(root)
    found = refs.files_named(name) or []
    assert [p.relative_to(root).as_posix() for p in found] == files


def test_a_procedure_gets_what_ctx_holds_and_the_handles_behind_it(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path, "trpc-app")
    shown = _shown(context_at(root, "src/routers/notes.ts", "byId:"))
    assert "`ctx` holds" in shown[("src/trpc.ts", "createContext")]
    assert ("src/db/client.ts", "db") in shown
    assert ("src/auth.ts", "Auth") in shown
    assert "a part of `Auth`" in shown[("src/auth.ts", "Session")]


def test_code_that_reads_no_ctx_gets_no_trpc_context(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path, "trpc-app")
    (root / "src/routers/health.ts").write_text(
        'import { publicProcedure } from "../trpc.js";\n\n'
        'export const ping = publicProcedure.query(() => "pong");\n',
        encoding="utf-8",
    )
    shown = _shown(context_at(root, "src/routers/health.ts", "ping"))
    assert ("src/trpc.ts", "createContext") not in shown


def test_a_route_gets_the_mutation_its_container_resolves(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path, "di-app")
    shown = _shown(context_at(root, "src/modules/orders/orders.router.ts", "ordersMutations.place"))
    reason = shown[("src/modules/orders/orders.mutations.ts", "placeOrder")]
    assert "`ordersMutations` is injected" in reason


def test_a_mutation_gets_the_repository_functions_of_the_module_named_like_its_receiver(
    tmp_path: Path,
) -> None:
    root = copy_fixture(tmp_path, "di-app")
    shown = _shown(context_at(root, "src/modules/orders/orders.mutations.ts", "const placeOrder"))
    assert ("src/modules/orders/orders.repository.ts", "findInSlot") in shown
    assert ("src/modules/orders/orders.repository.ts", "createOne") in shown
    assert ("src/modules/invoices/invoices.repository.ts", "findInSlot") not in shown


CALLABLES = [
    (
        "class Service {\n  async list(id: string) {\n    return this.repo.list(id);\n  }\n}",
        ("list", "Service"),
    ),
    ("export async function listNotes(a: A) {\n  return Input.parse(a);\n}", ("listNotes", None)),
    (
        "export const listNotes = async (a: A) => {\n  return Input.parse(a);\n};",
        ("listNotes", None),
    ),
    ('app.get("/", async (req) => {\n  return Input.parse(req.body);\n});', None),
    ("export function outer() {\n  return items.map((a) => Input.parse(a));\n}", None),
]


@pytest.mark.parametrize(("code", "expected"), CALLABLES)
def test_the_named_function_a_use_is_in(code: str, expected: tuple[str, str | None] | None) -> None:
    src = SourceFile(code, "typescript")
    at = code.rindex("parse") if "parse" in code else code.rindex("list(")
    assert enclosing_callable(src, at) == expected


def test_a_repository_method_gets_the_procedure_that_calls_the_service_method_over_it(
    tmp_path: Path,
) -> None:
    root = copy_fixture(tmp_path, "trpc-app")
    context = context_at(root, "src/notes/notes.repo.ts", "async listFor")
    reasons = [item.reason for item, _ in context.items if item.path == "src/routers/notes.ts"]
    assert any("calls `listFor` in the handler of tRPC procedure `mine`" in r for r in reasons)


def test_a_schema_gets_the_callers_of_the_function_that_parses_with_it(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path, "trpc-app")
    context = context_at(root, "src/notes/schemas.ts", "limit:")
    (reason,) = [item.reason for item, _ in context.items if item.path == "src/routers/notes.ts"]
    assert "calls `listNotes`" in reason
    assert "which uses `ListNotesInput`" in reason


def test_a_method_of_an_injected_service_class_is_found_in_the_file_named_like_it(
    tmp_path: Path,
) -> None:
    root = copy_fixture(tmp_path, "di-app")
    shown = _shown(context_at(root, "src/modules/report/handler.ts", "return this.app"))
    reason = shown[("src/modules/report/service.ts", "ReportService.summary")]
    assert "`reportService` is injected" in reason
