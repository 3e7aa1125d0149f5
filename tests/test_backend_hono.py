"""Hono routes by Hono's rules: middleware before the handler, validators as middleware, `.use`
for the routes after it, `basePath`, and the request read through the context `c`."""

from __future__ import annotations

from pathlib import Path

import pytest

from subagent_lsp.backend.code_facts import code_facts
from subagent_lsp.backend.hover_facts import static_facts
from subagent_lsp.backend.routes import route_call
from subagent_lsp.backend.targets import target_at
from subagent_lsp.syntax import SourceFile, Symbol, declarations

HEADER = 'import { Hono } from "hono";\nimport { zValidator } from "@hono/zod-validator";\n'


def _hover(code: str, needle: str) -> list[str] | None:
    text = HEADER + code
    src = SourceFile(text, "typescript")

    def find(name: str) -> Symbol | None:
        found = declarations(src).get(name)
        return Symbol(Path("/w/app.ts"), src, found) if found is not None else None

    facts = static_facts(src, text.index(needle), find, lambda p: p.name)
    if facts is None or facts.kind != "route":
        return None
    return facts.markdown.splitlines()


@pytest.mark.parametrize(
    ("code", "needle", "expected"),
    [
        # A validator middleware validates its part; the handler reads it with `c.req.valid`.
        (
            "const app = new Hono().use(authMiddleware).post(\n"
            '  "/",\n  zValidator("json", newBookmark),\n'
            '  async (c) => c.json(await save(c.req.valid("json"))),\n);',
            '"/"',
            [
                "**POST /** · Hono route",
                "- validation: body ✓ (`json` validator `newBookmark`)",
                "- runs first: `authMiddleware` (`.use`, line 3)",
                "- handler: inline async function, lines 6–6",
            ],
        ),
        # Reading the body without a validator is missing validation; other middleware runs first.
        (
            "const app = new Hono();\n"
            'app.use("/admin/*", requireAdmin);\n'
            'app.post("/admin/users", rateLimit({ max: 5 }), async (c) => {\n'
            "  const body = await c.req.json();\n  return c.json(await create(body));\n});",
            '"/admin/users"',
            [
                "**POST /admin/users** · Hono route",
                "- validation: no validator; missing: body",
                "- runs first: `requireAdmin` (`.use` on `/admin/*`, line 4), "
                "`rateLimit({ max: 5 })`",
                "- handler: inline async function, lines 5–8",
            ],
        ),
        # The handler may parse what it reads itself; the base path comes before the route's.
        (
            'const api = new Hono().basePath("/v1");\n'
            'api.put("/tags/:id", async (c) => {\n'
            "  const input = updateTag.parse(await c.req.json());\n"
            '  return c.json(await rename(c.req.param("id"), input));\n});',
            '"/tags',
            [
                "**PUT /v1/tags/:id** · Hono route",
                "- validation: body ✓ (handler parses `updateTag`); missing: params",
                "- runs first: no middleware",
                "- handler: inline async function, lines 4–7",
            ],
        ),
        # Query and param validators, and a handler registered by name.
        (
            "async function listTags(c) {\n"
            '  return c.json(await tags(c.req.valid("query"), c.req.valid("param")));\n}\n'
            'const app = new Hono().get("/:id", zValidator("query", paging), '
            'zValidator("param", z.object({ id: z.string() })), listTags);',
            '"/:id"',
            [
                "**GET /:id** · Hono route",
                "- validation: querystring ✓ (`query` validator `paging`); params ✓ (`param` "
                "validator `z.object({ id: z.string() })`)",
                "- runs first: no middleware",
                "- handler: `listTags` (line 3)",
            ],
        ),
        # A `.use` after the route does not run before it.
        (
            'const app = new Hono();\napp.get("/health", (c) => c.text("ok"));\n'
            "app.use(authMiddleware);",
            '"/health"',
            [
                "**GET /health** · Hono route",
                "- validation: no validator",
                "- runs first: no middleware",
                "- handler: inline function, lines 4–4",
            ],
        ),
    ],
)
def test_hono_routes_by_honos_rules(code: str, needle: str, expected: list[str]) -> None:
    assert _hover(code, needle) == expected


@pytest.mark.parametrize(
    ("code", "route"),
    [
        ('app.get("/x", (c) => c.text("x"));', "GET /x hono"),
        ('c.get("/x");', None),
        ('c.get("ctx");', None),
        ('app.route("/bookmarks", bookmarks);', None),
        ('headers.delete("/x");', None),
    ],
)
def test_which_calls_are_hono_routes(code: str, route: str | None) -> None:
    src = SourceFile(HEADER + code, "typescript")
    call = src.tree.root_node.named_children[-1].named_children[0]
    found = route_call(src, call)
    assert (f"{found.name} {found.framework}" if found is not None else None) == route


def test_a_fastify_file_keeps_fastifys_rules() -> None:
    code = 'app.get("/x", { preHandler: auth }, async (req) => req.query.q);'
    src = SourceFile(code, "typescript")
    found = route_call(src, src.tree.root_node.named_children[0].named_children[0])
    assert found is not None and found.framework == "fastify"


def test_the_validation_intent_reads_honos_facts() -> None:
    code = HEADER + 'app.post("/x", async (c) => save(await c.req.json()));'
    src = SourceFile(code, "typescript")
    at = code.index("save")
    facts = code_facts(src, target_at(src, at, at))
    assert facts.in_route and facts.route_unvalidated == ("body",)
