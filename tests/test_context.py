"""The context engine on a fixture project that exercises every rule: what goes in, what never does."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from subagent_lsp.context.gather import gather_context
from subagent_lsp.context.index import ProjectIndex
from subagent_lsp.context.items import Context, estimate_tokens
from subagent_lsp.context.modules import ModuleResolver, parse_jsonc
from subagent_lsp.context.symbols import Lookup
from subagent_lsp.exclusions import Exclusions
from subagent_lsp.overlay import DocumentSnapshot
from subagent_lsp.redaction import PLACEHOLDER, redact
from subagent_lsp.syntax import SourceFile

FIXTURE = Path(__file__).parent / "fixtures" / "context-project"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    shutil.copytree(FIXTURE, root)
    return root.resolve()


def _gather(
    root: Path,
    needle: str = 'app.post("/orders"',
    *,
    budget: int = 6000,
    documents: dict[Path, DocumentSnapshot] | None = None,
    index: ProjectIndex | None = None,
) -> Context:
    path = root / "src/routes/orders.ts"
    index = index or ProjectIndex([root])
    src = index.source(path, documents or {})
    assert src is not None
    at = src.text.index(needle)
    _, context = gather_context(
        path,
        src,
        at,
        at,
        index=index,
        documents=documents or {},
        exclusions=Exclusions((root,)),
        budget=budget,
    )
    return context


def _symbols(context: Context, form: str = "full") -> dict[str, str]:
    return {
        str(item.symbol): item.path
        for item, f in context.items
        if f == form and item.kind in ("definition", "local")
    }


def test_definitions_are_followed_through_aliases_barrels_and_js_specifiers(project: Path) -> None:
    symbols = _symbols(_gather(project))
    # `@db/*` comes from the tsconfig that tsconfig.json extends; `orderTable` is a renamed
    # re-export in a barrel that re-exports another barrel.
    assert symbols["orders"] == "src/db/tables/orders.ts"
    assert symbols["db"] == "src/db/connection.ts"
    assert symbols["createOrderBody"] == "src/schemas/order.ts"
    assert symbols["config"] == "src/lib/config.ts"
    assert symbols["calculateTotals"] == "src/lib/pricing.ts"


def test_one_more_level_follows_nested_schemas_and_a_tables_relations(project: Path) -> None:
    symbols = _symbols(_gather(project))
    assert symbols["customerSchema"] == "src/schemas/customer.ts"
    assert symbols["ordersRelations"] == "src/db/tables/orders.ts"
    # Only one level more: the address schema inside the customer schema is left to `view`.
    assert "addressSchema" not in symbols


def test_same_file_declarations_used_by_the_selection_are_included(project: Path) -> None:
    context = _gather(project)
    local = {str(i.symbol) for i, f in context.items if i.kind == "local" and f == "full"}
    assert local == {"TAX_RATE", "formatMoney"}


def test_declarations_are_sent_whole_but_files_are_not(project: Path) -> None:
    text = _gather(project).render()
    assert 'export const orders = mysqlTable(\n  "orders",' in text
    assert "/** The body of POST /orders. */\nexport const createOrderBody" in text
    assert "customers = mysqlTable" not in text, "an unrelated table of the same barrel"
    assert 'app.get("/orders/:id"' not in text, "another route of the same file"


def test_project_facts_name_versions_dialect_and_module_settings(project: Path) -> None:
    text = _gather(project).render()
    assert "- drizzle-orm ^0.43.1" in text and "- zod ^4.0.5" in text
    assert "- Drizzle dialect: mysql" in text
    assert "moduleResolution: NodeNext" in text and "@db/* -> src/db/*" in text


def test_ignored_files_dependencies_and_env_files_never_go_in(project: Path) -> None:
    context = _gather(project)
    text = context.render()
    assert "GENERATED_MARKER" not in text, ".gitignore'd folder"
    assert "NODE_MODULES_MARKER" not in text
    assert "env-file-password" not in text and "envfilesecret" not in text
    assert all(
        not item.path.startswith(("node_modules", "src/generated")) for item, _ in context.items
    )


def test_credentials_in_string_literals_are_replaced_in_everything_sent(project: Path) -> None:
    text = _gather(project).render()
    assert "sk_live_51HqLiteralSecretValue" not in text
    assert "literal-password-5678" not in text
    assert f'stripeKey: "{PLACEHOLDER}"' in text
    assert f"mysql://shop:{PLACEHOLDER}@db:3306/shop" in text


def test_redaction_covers_common_credential_shapes() -> None:
    samples = [
        'const key = "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv";',
        'headers: { authorization: "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijk" }',
        "const aws = 'AKIAABCDEFGHIJKLMNOP';",
        'password: "correct horse battery staple",',
        "const pem = `-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----`;",
    ]
    for sample in samples:
        assert PLACEHOLDER in redact(sample), sample
    kept = 'const url = process.env.DATABASE_URL;\nconst label = "Order total";'
    assert redact(kept) == kept


def test_the_budget_holds_and_drops_lower_priorities_first(project: Path) -> None:
    full = _gather(project)
    selection = next(item for item, _ in full.items if item.kind == "selection")
    budget = selection.tokens + 260
    tight = _gather(project, budget=budget)
    assert tight.used_tokens <= budget
    forms = {str(item.symbol or item.kind): form for item, form in tight.items}
    assert forms["project"] == "omitted" and forms["formatMoney"] == "omitted"
    assert forms["createOrderBody"] == "full", "imported definitions outrank project facts"
    assert "## Left out to fit the context budget" in tight.render()
    assert "`formatMoney` from `src/routes/orders.ts`" in tight.render()


def test_a_long_function_is_shortened_to_its_signature_before_it_is_dropped(
    project: Path,
) -> None:
    full = _gather(project)
    pricing = next(item for item, _ in full.items if item.symbol == "calculateTotals")
    assert pricing.short is not None
    assert pricing.short.startswith("/**\n * Totals for an order, with tax.")
    assert pricing.short.endswith("taxRate: number) { … }")
    # Room for the selection, the imports and the directly imported definitions, with this one
    # only as a signature: everything of lower rank goes first, then this one is shortened.
    direct = [
        i for i, _ in full.items if i.kind in ("selection", "imports") or "imported" in i.reason
    ]
    budget = sum(i.tokens for i in direct) - pricing.tokens + estimate_tokens(pricing.short) + 5
    context = _gather(project, budget=budget)
    assert dict((str(i.symbol), f) for i, f in context.items)["calculateTotals"] == "short"
    assert context.used_tokens <= budget
    assert "(signature only)" in context.render()


def test_open_documents_are_read_from_their_unsaved_text(project: Path) -> None:
    schema = project / "src/schemas/order.ts"
    unsaved = schema.read_text(encoding="utf-8").replace(".min(1)", ".min(1).max(50)")
    context = _gather(project, documents={schema: DocumentSnapshot(unsaved, 3)})
    assert ".min(1).max(50)" in context.render()


def test_parse_trees_are_reused_until_the_file_changes(project: Path) -> None:
    index = ProjectIndex([project])
    path = project / "src/lib/config.ts"
    first = index.source(path, {})
    assert index.source(path, {}) is first
    path.write_text("export const config = { retries: 4 };\n", encoding="utf-8")
    os.utime(path, ns=(1, 1))
    second = index.source(path, {})
    assert second is not first and second is not None and "retries: 4" in second.text


def test_module_resolution_rules(project: Path) -> None:
    resolver = ModuleResolver([project])
    route = project / "src/routes/orders.ts"
    assert resolver.resolve(route, "../lib/pricing.js") == project / "src/lib/pricing.ts"
    assert resolver.resolve(route, "@db/index.js") == project / "src/db/index.ts"
    assert resolver.resolve(route, "~/db") == project / "src/db/index.ts"
    assert resolver.resolve(route, "zod") is None
    assert resolver.resolve(route, "../../../outside.js") is None


def test_tsconfig_files_may_have_comments_and_trailing_commas() -> None:
    assert parse_jsonc('{\n  // a comment\n  "a": "x//y", /* b */ "c": [1, 2,],\n}') == {
        "a": "x//y",
        "c": [1, 2],
    }


def test_the_context_command_prints_what_would_be_sent(project: Path, tmp_path: Path) -> None:
    route = project / "src/routes/orders.ts"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    env["HOME"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "subagent_lsp", "context", f"{route}:18", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    data = json.loads(done.stdout)
    assert data["used_tokens"] <= data["budget"]
    reasons = {item["symbol"]: item["reason"] for item in data["items"] if item["symbol"]}
    assert reasons["orders"] == (
        "`orderTable` is imported from '@db/index.js' through `src/db/index.ts`"
    )
    assert "export const createOrderBody" in data["text"]
    assert all(item["tokens"] > 0 for item in data["items"])


def test_lookups_follow_namespace_members_reexported_imports_and_values_over_types(
    tmp_path: Path,
) -> None:
    files = {
        "handlers.ts": "export async function listItems(request) { return []; }\n",
        "inner.ts": (
            "export const Item = z.object({ id: z.string() });\n"
            "export type Item = z.infer<typeof Item>;\n"
        ),
        "barrel.ts": 'import { Item } from "./inner";\nexport { Item };\n',
        "app.ts": (
            'import * as handlers from "./handlers";\nimport { Item } from "./barrel";\n'
            "app.get('/items', handlers.listItems);\nItem.parse(x);\n"
        ),
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    roots = (tmp_path,)
    lookup = Lookup(ProjectIndex(roots), {}, Exclusions(roots))
    app = tmp_path / "app.ts"
    src = SourceFile(files["app.ts"], "typescript")

    handler = lookup.find(app, src, "handlers.listItems")
    assert handler is not None and handler.path == tmp_path / "handlers.ts"
    assert handler.declaration.kind == "function"
    schema = lookup.find(app, src, "Item")
    assert schema is not None and schema.path == tmp_path / "inner.ts"
    assert (schema.declaration.kind, schema.declaration.called_name) == ("variable", "object")
    assert lookup.find(app, src, "handlers.missing") is None
