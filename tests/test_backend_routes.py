"""Route validation and options, rule by rule: where validation happens, what the handler reads,
and options followed to where they are defined."""

from __future__ import annotations

from pathlib import Path

import pytest

from subagent_lsp.actions import intent
from subagent_lsp.backend.code_facts import code_facts
from subagent_lsp.backend.hover_facts import static_facts
from subagent_lsp.backend.targets import target_at
from subagent_lsp.syntax import SourceFile, Symbol, declarations

ELSEWHERE = """\
export const requireUser = { onRequest: [app.authenticate] };
export const validated = { preValidation: validate({ body: createUserBody }) };
export const userSchemas = { params: userParams, response: { 200: user } };
export async function listItems(request, reply) {
  return db.select().from(items).where(eq(items.owner, request.query.owner));
}
"""


def _route(code: str) -> list[str]:
    """The route hover's lines after the title; names found in the snippet or `ELSEWHERE`."""
    src = SourceFile(code, "typescript")
    other = SourceFile(ELSEWHERE, "typescript")

    def find(name: str) -> Symbol | None:
        for path, source in ((Path("/w/a.ts"), src), (Path("/w/b.ts"), other)):
            if name in declarations(source):
                return Symbol(path, source, declarations(source)[name])
        return None

    facts = static_facts(src, code.index("app.") + 1, find, lambda p: p.name)
    assert facts is not None and facts.kind == "route"
    return facts.markdown.splitlines()[1:]


@pytest.mark.parametrize(
    ("code", "validation"),
    [
        # The handler parses what it reads.
        (
            'app.post("/users", async (request) => {\n'
            "  const body = createUserBody.parse(request.body);\n})",
            "body ✓ (handler parses `createUserBody`)",
        ),
        (
            'app.put("/u/:id", async ({ params, body }) => {\n'
            "  const p = await userParams.parseAsync(params);\n"
            "  const r = patch.safeParse(body);\n})",
            "params ✓ (handler parses `userParams`); body ✓ (handler parses `patch`)",
        ),
        (
            'app.patch("/u", async (req) => {\n  const { body: input } = req;\n'
            "  return patch.parse(input);\n})",
            "body ✓ (handler parses `patch`)",
        ),
        # A hook validates: inline, a validator call, or one defined elsewhere.
        (
            'app.post("/u", { preValidation: async (req) => { s.parse(req.body); } }, '
            "async (req) => save(req.body))",
            "body ✓ (preValidation hook)",
        ),
        (
            'app.post("/u", validated, async (req) => save(req.body))',
            "body ✓ (preValidation `validate(…)`)",
        ),
        # A route schema, found where it is defined; with a Zod type provider.
        (
            'app.get("/u/:id", { schema: userSchemas }, async (req) => find(req.params.id))',
            "params ✓ (route schema)",
        ),
        (
            'app.withTypeProvider<ZodTypeProvider>().post("/u", { schema: { body: B } }, '
            "async (req) => save(req.body))",
            "body ✓ (route schema, Zod type provider)",
        ),
        # Missing only what the handler reads: a DELETE reading params only.
        (
            'app.delete("/users/:id", async (request, reply) => {\n'
            "  const { id } = request.params as { id: string };\n})",
            "no schema; missing: params",
        ),
        (
            'app.get("/health", async () => ({ ok: true }))',
            "no schema",
        ),
        (
            'app.post("/u", { schema: { body: B } }, async (req) => save(req.body, req.query.x))',
            "body ✓ (route schema); missing: querystring",
        ),
    ],
)
def test_validation_wherever_it_happens(code: str, validation: str) -> None:
    assert _route(code)[0] == f"- validation: {validation}"


@pytest.mark.parametrize(
    ("code", "hooks", "handler"),
    [
        (
            'app.get("/items", requireUser, listItems)',
            "- hooks: onRequest (from `requireUser`)",
            "- handler: `listItems` (b.ts:4)",
        ),
        (
            'app.get("/items", { ...requireUser, schema: { querystring: Q } }, listItems)',
            "- hooks: onRequest (from `requireUser`)",
            "- handler: `listItems` (b.ts:4)",
        ),
        (
            "const guarded = { ...requireUser, preHandler: audit };\n"
            'app.get("/items", guarded, listItems)',
            "- hooks: onRequest (from `guarded`), preHandler (from `guarded`)",
            "- handler: `listItems` (b.ts:4)",
        ),
        (
            'app.get("/items", { onRequest: auth }, async () => 1)',
            "- hooks: onRequest",
            "- handler: inline async function, lines 1–1",
        ),
    ],
)
def test_options_are_followed_to_where_they_are_defined(
    code: str, hooks: str, handler: str
) -> None:
    lines = _route(code)
    assert hooks in lines and handler in lines


def test_a_named_handler_is_read_where_it_is_defined() -> None:
    lines = _route('app.get("/items", requireUser, listItems)')
    assert lines[0] == "- validation: no schema; missing: querystring"
    lines = _route('app.get("/items", { schema: { querystring: Q } }, listItems)')
    assert lines[0] == "- validation: querystring ✓ (route schema)"
    lines = _route('app.get("/items", unknownHandler)')
    assert "- reads: unknown (the handler's code was not found)" in lines


@pytest.mark.parametrize(
    ("code", "unvalidated", "offered"),
    [
        (
            'app.post("/users", async (request) => {\n'
            "  const body = createUserBody.parse(request.body);\n  return save(body);\n})",
            (),
            False,
        ),
        (
            'app.post("/users", { preHandler: async (r) => { s.parse(r.body); } }, '
            "async (request) => save(request.body))",
            (),
            False,
        ),
        ('app.post("/users", async (request) => save(request.body))', ("body",), True),
        ('app.delete("/users/:id", async (req) => drop(req.params.id))', ("params",), True),
        ('app.delete("/users", async () => dropAll())', (), False),
    ],
)
def test_the_validation_intent_reads_the_same_facts(
    code: str, unvalidated: tuple[str, ...], offered: bool
) -> None:
    src = SourceFile(code, "typescript")
    at = code.index("save(") if "save(" in code else code.index("=>")
    facts = code_facts(src, target_at(src, at, at))
    assert facts.route_unvalidated == unvalidated
    validate = intent("validate-input")
    assert validate is not None and validate.applies(facts) is offered


HANDLERS = """\
import * as handlers from "./handlers";
export async function listItems(this: FastifyInstance, request, reply) {
  return find(request.query.owner);
}
"""


def _route_at(code: str, needle: str) -> list[str]:
    """The route hover at ``needle``; names found in the snippet, `ELSEWHERE` or `HANDLERS`
    (whose namespace import `handlers` reaches `ELSEWHERE`, as the workspace lookup does)."""
    src = SourceFile(code, "typescript")
    sources = (
        (Path("/w/a.ts"), src),
        (Path("/w/handlers.ts"), SourceFile(ELSEWHERE, "typescript")),
        (Path("/w/b.ts"), SourceFile(HANDLERS, "typescript")),
    )

    def find(name: str) -> Symbol | None:
        namespace, _, member = name.rpartition(".")
        for path, source in sources[1:] if namespace else sources[::2]:
            if member in declarations(source):
                name = member
                return Symbol(path, source, declarations(source)[name])
        return None

    facts = static_facts(src, code.index(needle), find, lambda p: p.name)
    assert facts is not None and facts.kind == "route"
    return facts.markdown.splitlines()


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        # A handler written as a method of the options object, or as a function expression.
        (
            'app.post("/sign-up", {\n  config: C,\n  handler(req) {\n'
            "    return signUp(req.body);\n  },\n});",
            ["- validation: no schema; missing: body", "- handler: inline method, lines 3–5"],
        ),
        (
            'app.get("/x", {\n  async handler(req, rep) {\n    return req.params.id;\n  },\n});',
            [
                "- validation: no schema; missing: params",
                "- handler: inline async method, lines 2–4",
            ],
        ),
        (
            "app.route({ method: 'POST', url: '/x', handler: async function (request) {\n"
            "  return s.parse(request.body);\n} });",
            [
                "- validation: body ✓ (handler parses `s`)",
                "- handler: inline async function, lines 1–3",
            ],
        ),
        # A handler registered by name: in this file, imported, or a namespace import's member.
        (
            "async function show(request) { return request.params.id; }\n"
            "app.get('/items/:id', { preHandler: [requireUser] }, show);",
            ["- validation: no schema; missing: params", "- handler: `show` (line 1)"],
        ),
        (
            "app.get('/items', { preHandler: [requireUser] }, listItems);",
            ["- validation: no schema; missing: querystring", "- handler: `listItems` (b.ts:2)"],
        ),
        (
            "fastify.route({ method: 'POST', url: '/items', handler: handlers.listItems });",
            [
                "- validation: no schema; missing: querystring",
                "- handler: `handlers.listItems` (handlers.ts:4)",
            ],
        ),
    ],
)
def test_handlers_are_followed_wherever_they_are_written(code: str, expected: list[str]) -> None:
    lines = _route_at(code, "/")
    assert [line for line in lines if line.startswith(("- validation", "- handler"))] == expected


PLUGIN = """\
export default async function bookings(app: FastifyInstance) {
  app.addHook("preHandler", app.auth([app.verifyJwt]));
  app.get("/", { config: C }, async (req) => list(req.query));
  app.register(async (child) => {
    child.addHook("onRequest", child.rateLimit());
    child.post("/", async (req) => save(req.body));
  });
  other.addHook("preValidation", async (req) => { B.parse(req.body); });
  app.addHook("preValidation", async (req) => { Q.parse(req.query); });
  app.get("/late", async (req) => list(req.query));
}
"""


@pytest.mark.parametrize(
    ("needle", "expected"),
    [
        # Hooks the plugin adds, before or after the route, run for it.
        (
            'app.get("/",',
            [
                "- validation: querystring ✓ (preValidation hook of the plugin)",
                "- hooks: preHandler (plugin-wide, line 2), preValidation (plugin-wide, line 9)",
                "- runs first: `app.auth([app.verifyJwt])` (preHandler hook of the plugin, "
                "line 2), `async (req) => { Q.parse(req.query); }` (preValidation hook of the "
                "plugin, line 9)",
            ],
        ),
        (
            'app.get("/late"',
            [
                "- validation: querystring ✓ (preValidation hook of the plugin)",
                "- hooks: preHandler (plugin-wide, line 2), preValidation (plugin-wide, line 9)",
            ],
        ),
        # A child plugin's hooks are its own; another instance's are not this plugin's.
        (
            'child.post("/"',
            [
                "- validation: no schema; missing: body",
                "- hooks: onRequest (plugin-wide, line 5)",
                "- runs first: `child.rateLimit()` (onRequest hook of the plugin, line 5)",
            ],
        ),
    ],
)
def test_hooks_a_plugin_adds_guard_each_of_its_routes(needle: str, expected: list[str]) -> None:
    lines = _route_at(PLUGIN, needle)
    shown = [line for line in lines if line.startswith(("- validation", "- hooks", "- runs"))]
    assert shown[: len(expected)] == expected
