"""Reading TypeScript: what a cursor or a selection means, instruction comments, code facts."""

from __future__ import annotations

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from tree_sitter import Node

from subagent_lsp.backend.code_facts import code_facts
from subagent_lsp.backend.targets import target_at
from subagent_lsp.syntax import Instruction, SourceFile, find_instruction, imports, language_for
from tests.helpers import EXAMPLES


def instruction_at(src: SourceFile, start: int, end: int) -> Instruction | None:
    return find_instruction(src, start, end, target_at(src, start, end))


ROUTES = """\
import type { FastifyInstance } from "fastify";
import { eq, desc as byNewest } from "drizzle-orm";
import * as schema from "./schema.js";
import "./polyfills.js";
import { db } from "@/db/index.js";

export async function userRoutes(app: FastifyInstance) {
  app.get("/users/:id", { schema: { params: userParams } }, async (request, reply) => {
    const { id } = userParams.parse(request.params);
    const rows = await db.select().from(users).where(eq(users.id, id));
    return reply.code(200).send(rows[0]);
  });

  app.post("/users", async (request) => {
    try {
      return await createUser(request.body);
    } catch (error) {
      throw error;
    }
  });
}

export const createUserBody = z.object({
  email: z.string().email(),
  profile: z.object({ bio: z.string() }),
});
"""


def _at(src: SourceFile, needle: str) -> int:
    return src.text.index(needle)


def _cursor(text: str, needle: str, language: str = "typescript") -> tuple[SourceFile, int]:
    src = SourceFile(text, language)  # type: ignore[arg-type]
    return src, _at(src, needle)


def test_languages_are_chosen_by_language_id_then_extension() -> None:
    assert language_for("file:///a/b.ts", "typescript") == "typescript"
    assert language_for("file:///a/b.tsx", "typescriptreact") == "tsx"
    assert language_for("file:///a/b.mts") == "typescript"
    assert language_for("file:///a/b.js", "javascript") is None
    assert language_for("file:///a/b.md", "markdown") is None


def test_empty_selection_in_a_handler_expands_to_the_statement_at_the_cursor() -> None:
    src, at = _cursor(ROUTES, "rows = await")
    target = target_at(src, at, at)
    assert src.text[target.start : target.end] == (
        "const rows = await db.select().from(users).where(eq(users.id, id));"
    )
    assert target.enclosing_kind == "route"
    assert target.enclosing_name == "GET /users/:id"


def test_one_character_selection_means_the_same_as_a_cursor() -> None:
    src, at = _cursor(ROUTES, "rows = await")
    assert target_at(src, at, at + 1) == target_at(src, at, at)


def test_cursor_on_a_route_line_means_the_whole_route_registration() -> None:
    src, at = _cursor(ROUTES, 'app.post("/users"')
    target = target_at(src, at + 2, at + 2)
    assert src.text[target.start : target.end].startswith('app.post("/users", async')
    assert src.text[target.start : target.end].endswith("});")
    assert (target.enclosing_kind, target.enclosing_name) == ("route", "POST /users")


def test_cursor_in_indentation_or_a_blank_line_moves_to_the_code_that_follows() -> None:
    src, at = _cursor(ROUTES, "    const { id }")
    target = target_at(src, at, at)
    assert src.text[target.start :].startswith("const { id }")
    blank = src.text.index("\n\n  app.post") + 1
    target = target_at(src, blank, blank)
    assert src.text[target.start :].startswith('app.post("/users"')


def test_a_multi_line_zod_schema_is_one_target() -> None:
    src, at = _cursor(ROUTES, "email: z.string()")
    target = target_at(src, at, at)
    text = src.text[target.start : target.end]
    assert text.startswith("export const createUserBody = z.object({") and text.endswith("});")


def test_a_real_selection_is_kept_and_trimmed() -> None:
    src, at = _cursor(ROUTES, "    const { id }")
    end = src.text.index("\n", src.text.index("const rows")) + 1
    target = target_at(src, at, end)
    assert target.kind == "selection"
    assert src.text[target.start : target.end].startswith("const { id }")
    assert src.text[target.start : target.end].endswith("eq(users.id, id));")


def test_offsets_stay_exact_after_astral_characters() -> None:
    text = (
        '// 🚀 launch 🎉 tests\nconst label = "✨";\nconst rows = await db.select().from(users);\n'
    )
    src, at = _cursor(text, "rows")
    target = target_at(src, at, at)
    assert src.text[target.start : target.end] == "const rows = await db.select().from(users);"
    assert code_facts(src, target).has_db_query


def test_methods_and_classes_are_named_enclosures() -> None:
    text = "class UserService {\n  async find(id: number) {\n    return db.query.users.findFirst();\n  }\n}\n"
    src, at = _cursor(text, "return db")
    target = target_at(src, at, at)
    assert (target.enclosing_kind, target.enclosing_name) == ("method", "find")


def test_tsx_files_parse_with_the_tsx_grammar() -> None:
    text = "export function Row({ user }: Props) {\n  return <td>{user.name}</td>;\n}\n"
    src, at = _cursor(text, "return <td>", "tsx")
    target = target_at(src, at, at)
    assert src.text[target.start : target.end] == "return <td>{user.name}</td>;"


def test_an_instruction_comment_directly_above_is_found_with_its_continuation() -> None:
    text = ROUTES.replace(
        "    const rows",
        "    // @agent: add pagination with limit and offset\n    // from the querystring\n    const rows",
    )
    src, at = _cursor(text, "const rows")
    found = instruction_at(src, at, at)
    assert found is not None
    assert found.agent is None
    assert found.text == "add pagination with limit and offset from the querystring"


def test_an_instruction_can_name_its_agent_and_sit_inside_the_selection() -> None:
    text = ROUTES.replace("    const rows", "    // @backend-engineer: use a join\n    const rows")
    src = SourceFile(text, "typescript")
    start = src.text.index("    const { id }")
    end = src.text.index("return reply")
    found = instruction_at(src, start, end)
    assert found is not None and (found.agent, found.text) == ("backend-engineer", "use a join")


def test_a_block_comment_instruction_is_found() -> None:
    text = ROUTES.replace("    const rows", "    /* @agent: cache this lookup */\n    const rows")
    src, at = _cursor(text, "const rows")
    found = instruction_at(src, at, at)
    assert found is not None and found.text == "cache this lookup"


def test_an_instruction_separated_by_a_blank_line_does_not_apply() -> None:
    text = ROUTES.replace("    const rows", "    // @agent: add pagination\n\n    const rows")
    src, at = _cursor(text, "const rows")
    assert instruction_at(src, at, at) is None


def test_an_instruction_inside_a_string_is_not_a_comment() -> None:
    text = ROUTES.replace("    const rows", '    const note = "// @agent: not me";\n    const rows')
    src, at = _cursor(text, "const rows")
    assert instruction_at(src, at, at) is None


def test_code_facts_describe_a_route_statement() -> None:
    src, at = _cursor(ROUTES, "rows = await")
    facts = code_facts(src, target_at(src, at, at))
    assert facts.in_route and facts.route_method == "GET" and facts.route_path == "/users/:id"
    assert facts.route_has_schema
    assert facts.has_db_query and facts.has_await
    assert not facts.has_try_catch and not facts.uses_zod
    assert {"db", "users", "eq", "id"} <= facts.identifiers


def test_code_facts_of_a_whole_route_without_a_schema() -> None:
    src, at = _cursor(ROUTES, 'app.post("/users"')
    facts = code_facts(src, target_at(src, at, at))
    assert facts.in_route and facts.route_method == "POST" and not facts.route_has_schema
    assert facts.has_try_catch and facts.is_function_like and not facts.has_db_query


def test_code_facts_see_zod_and_status_codes() -> None:
    src, at = _cursor(ROUTES, "const { id }")
    facts = code_facts(src, target_at(src, at, at))
    assert facts.uses_zod
    src, at = _cursor(ROUTES, "return reply.code(200)")
    assert code_facts(src, target_at(src, at, at)).sets_status


def test_code_facts_of_several_routes_name_the_first() -> None:
    src = SourceFile(ROUTES, "typescript")
    start = src.text.index('  app.get("/users/:id"')
    end = src.text.index("  });\n}\n") + len("  });")
    facts = code_facts(src, target_at(src, start, end))
    assert (facts.route_method, facts.route_path) == ("GET", "/users/:id")
    assert facts.has_db_query and facts.has_try_catch


def test_code_facts_count_only_what_the_selection_touches() -> None:
    src = SourceFile(ROUTES, "typescript")
    start = src.text.index("const { id }")
    end = src.text.index("\n", start)
    facts = code_facts(src, target_at(src, start, end))
    assert facts.uses_zod and facts.identifiers == {"userParams", "request"}
    assert "rows" not in facts.identifiers and not facts.has_db_query and not facts.has_await


def test_an_instruction_at_the_end_of_the_cursor_line_is_found() -> None:
    text = ROUTES.replace(
        "eq(users.id, id));", "eq(users.id, id)); // @agent: select only id and email"
    )
    src, at = _cursor(text, "const rows")
    found = instruction_at(src, at, at)
    assert found is not None and found.text == "select only id and email"


def test_imports_list_every_binding_form() -> None:
    found = imports(SourceFile(ROUTES, "typescript"))
    assert [(i.source, i.names, i.type_only) for i in found] == [
        ("fastify", ("FastifyInstance",), True),
        ("drizzle-orm", ("eq", "byNewest"), False),
        ("./schema.js", ("schema",), False),
        ("./polyfills.js", (), False),
        ("@/db/index.js", ("db",), False),
    ]


def test_a_trpc_procedure_is_the_enclosure_of_its_resolver() -> None:
    text = (
        "export const userRouter = router({\n"
        "  byId: publicProcedure\n"
        "    .input(z.object({ id: z.string() }))\n"
        "    .query(async ({ input }) => {\n"
        "      const user = await db.query.users.findFirst({ where: eq(users.id, input.id) });\n"
        "      return user;\n"
        "    }),\n"
        "});\n"
    )
    src, at = _cursor(text, "const user =")
    target = target_at(src, at, at)
    assert (target.enclosing_kind, target.enclosing_name) == ("procedure", "byId")
    assert src.text[target.enclosing_start :].startswith("byId: publicProcedure")


@pytest.mark.parametrize("cursor", ["byId: publicProcedure", "  byId", "publicProcedure\n"])
def test_a_cursor_on_a_router_entrys_first_line_means_that_entry(cursor: str) -> None:
    text = (
        "export const userRouter = router({\n"
        "  list: publicProcedure.query(() => db.select().from(users)),\n"
        "  byId: publicProcedure\n"
        "    .input(z.object({ id: z.string() }))\n"
        "    .query(({ input }) => db.query.users.findFirst({ where: eq(users.id, input.id) })),\n"
        "});\n"
    )
    src, at = _cursor(text, cursor)
    target = target_at(src, at, at)
    assert src.text[target.start : target.end].startswith("byId: publicProcedure")
    assert src.text[target.start : target.end].endswith("input.id) }))")
    assert (target.enclosing_kind, target.enclosing_name) == ("procedure", "byId")


@settings(max_examples=150, deadline=None)
@given(
    source=st.sampled_from(
        [
            (EXAMPLES / "src/routes/users.ts").read_text(encoding="utf-8"),
            (EXAMPLES / "src/db/schema.ts").read_text(encoding="utf-8"),
            '// 🚀 «ünïcödé»\nexport const a = "é€";\n',
        ]
    ),
    edits=st.lists(
        st.tuples(
            st.integers(0, 5000),
            st.integers(0, 40),
            st.text(alphabet="ab {}();\n\"'`/*=>.:🚀é€", max_size=10),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_reparsing_only_what_changed_gives_the_same_tree_as_a_full_parse(
    source: str, edits: list[tuple[int, int, str]]
) -> None:
    previous = SourceFile(source, "typescript")
    for at, removed, typed in edits:
        old_shape = _shape(previous.tree.root_node)
        start = at % (len(previous.text) + 1)
        text = previous.text[:start] + typed + previous.text[start + removed :]
        incremental = SourceFile(text, "typescript", previous)
        fresh = SourceFile(text, "typescript")
        root, full = incremental.tree.root_node, fresh.tree.root_node
        assert (root.start_byte, root.end_byte) == (full.start_byte, full.end_byte)
        # Where the text has syntax errors, tree-sitter's error recovery may settle differently
        # when it reuses old nodes; everywhere else the trees must be the same to the byte.
        if not full.has_error:
            event("an error-free edit compared node by node")
            assert _shape(root) == _shape(full)
        assert _shape(previous.tree.root_node) == old_shape, "the previous tree is untouched"
        previous = incremental


def _shape(node: Node) -> list[tuple[str, int, int, tuple[int, int], tuple[int, int]]]:
    """Every node with its byte and point span, in order: what tells two parse trees apart."""
    out = [(node.type, node.start_byte, node.end_byte, node.start_point, node.end_point)]
    for child in node.children:
        out += _shape(child)
    return out
