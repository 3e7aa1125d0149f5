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
            "- handler: `listItems`",
        ),
        (
            'app.get("/items", { ...requireUser, schema: { querystring: Q } }, listItems)',
            "- hooks: onRequest (from `requireUser`)",
            "- handler: `listItems`",
        ),
        (
            "const guarded = { ...requireUser, preHandler: audit };\n"
            'app.get("/items", guarded, listItems)',
            "- hooks: onRequest (from `guarded`), preHandler (from `guarded`)",
            "- handler: `listItems`",
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
