"""Zod schemas beyond `z.object`: what each accepts, as far as the code says it statically."""

from __future__ import annotations

from pathlib import Path

import pytest

from subagent_lsp.backend.hover_facts import static_facts
from subagent_lsp.backend.zod import object_keys, read_schema
from subagent_lsp.syntax import SourceFile, Symbol, declarations


def _schema(code: str) -> list[str] | None:
    src = SourceFile(f"const s = {code};", "typescript")
    value = declarations(src)["s"].value(src)
    assert value is not None
    return read_schema(value, src)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ('z.enum(["RS256", "RS384"])', ["enum: RS256 | RS384"]),
        ('z.enum(["a", "b"]).default("a")', ["enum: a | b default"]),
        ("z.nativeEnum(Role)", ["enum of `Role`"]),
        ("z.string().email().max(320)", ["string (email, max)"]),
        ("z.coerce.number().int().optional()", ["coerced number (int) optional"]),
        ("z.array(cookieSchema).min(1)", ["array of `cookieSchema` (min)"]),
        ("z.array(z.string().uuid())", ["array of string (uuid)"]),
        ("z.union([z.string(), z.number()])", ["union of string, number"]),
        (
            'z.discriminatedUnion("type", [httpCheck, tcpCheck])',
            ["union on `type` of `httpCheck`, `tcpCheck`"],
        ),
        ('z.literal("ok").describe("always ok")', ['literal "ok"']),
        ("z.record(z.string(), z.number())", ["record of number"]),
        ("z.partialRecord(z.enum(keys), price) satisfies z.ZodType<P>", ["record of `price`"]),
        ("z.preprocess(toArray, z.array(z.string()))", ["preprocessed, then array(z.string())"]),
        # Zod 4's object variants are objects.
        (
            "z.looseObject({ title: z.string() })",
            ["title: string", "unknown keys kept"],
        ),
        ("z.strictObject({ id: z.number() })", ["id: number", "unknown keys rejected"]),
        # Derived from another schema.
        ("base.partial()", ["built from `base`", "every key optional"]),
        ("base.partial({ name: true })", ["built from `base`", "optional: name"]),
        (
            "base.omit({ id: true }).strict()",
            ["built from `base`", "omit: id", "unknown keys rejected"],
        ),
        ("base.merge(audit)", ["built from `base`", "+ keys of `audit`"]),
        (
            "z.object({ q: z.string() }).extend(paging.shape)",
            ["q: string", "+ keys of `paging`"],
        ),
        ("base.array().optional()", ["built from `base`", "as an array", "optional"]),
        # drizzle-zod, without the table at hand.
        (
            "createInsertSchema(users, { email: z.string().email() }).omit({ id: true })",
            [
                "insert schema of table `users` (drizzle-zod)",
                "refined email: string (email)",
                "omit: id",
            ],
        ),
        ("createSelectSchema(users)", ["select schema of table `users` (drizzle-zod)"]),
        # Not schemas.
        ("makeSchema({ a: 1 })", None),
        ("items.map((x) => x)", None),
        ("createInsertSchema", None),
    ],
)
def test_what_a_schema_accepts(code: str, expected: list[str] | None) -> None:
    assert _schema(code) == expected


SCHEMA_FILE = """\
export const post = pgTable("post", (t) => ({
  id: t.uuid().notNull().primaryKey().defaultRandom(),
  title: t.varchar({ length: 256 }).notNull(),
  body: t.text(),
  createdAt: t.timestamp().defaultNow().notNull(),
}));

export const CreatePost = createInsertSchema(post, { title: z.string().max(256) }).omit({
  id: true,
});
export const PostRow = createSelectSchema(post);
export const Status = z.enum(["draft", "published"]);
"""


@pytest.mark.parametrize(
    ("needle", "lines"),
    [
        (
            "CreatePost =",
            [
                "- insert schema of table `post` (drizzle-zod)",
                "- required: title",
                "- optional: id, body, createdAt",
                "- refined title: string (max)",
                "- omit: id",
            ],
        ),
        (
            "PostRow =",
            [
                "- select schema of table `post` (drizzle-zod)",
                "- columns: id, title, body, createdAt",
            ],
        ),
        ("Status =", ["- enum: draft | published"]),
    ],
)
def test_a_schema_hover_says_what_it_accepts(needle: str, lines: list[str]) -> None:
    src = SourceFile(SCHEMA_FILE, "typescript")
    found = declarations(src)

    def find(name: str) -> Symbol | None:
        return Symbol(Path("/w/schema.ts"), src, found[name]) if name in found else None

    facts = static_facts(src, SCHEMA_FILE.index(needle), find, lambda p: p.name)
    assert facts is not None and facts.kind == "schema"
    assert facts.markdown.splitlines()[1:] == lines


@pytest.mark.parametrize(
    ("code", "keys"),
    [
        ("z.object({ id: z.string(), note: z.string().nullable() })", {"id", "note"}),
        ("z.strictObject({ id: z.string() }).extend({ color: colorSchema })", {"id", "color"}),
        ("z.object({ id: z.string() }).optional()", {"id"}),
        ("z.string().min(1)", set()),
        ("base.extend({ color: colorSchema })", set()),  # the base's keys are not known here
    ],
)
def test_the_keys_of_an_object_schema(code: str, keys: set[str]) -> None:
    src = SourceFile(f"const s = {code};\n", "typescript")
    value = declarations(src)["s"].value(src)
    assert object_keys(value, src) == keys
