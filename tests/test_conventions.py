"""Conventions files as Claude Code, Cursor and Copilot define them: which apply to a file, in
which order, with imports and within a budget."""

from __future__ import annotations

from pathlib import Path

import pytest

from subagent_lsp.actions import INTENTS
from subagent_lsp.context.conventions import called_conventions, conventions, render


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _sources(root: Path, file: str) -> list[str]:
    return [c.source for c in conventions(root / file, root, (root,))]


def test_every_kind_applies_where_its_tool_says(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "CLAUDE.md": "Root rules. See @docs/style.md\n```\n@not/imported.md\n```\n",
            "docs/style.md": "Use named exports. @more.md",  # relative to the importing file
            "docs/more.md": "Prefer early returns.",
            "CLAUDE.local.md": "My local notes.",
            "apps/api/CLAUDE.md": "API rules.",
            "apps/web/CLAUDE.md": "Web rules.",
            "AGENTS.md": "Root agents file.",
            "apps/api/AGENTS.md": "API agents file.",
            ".claude/rules/db.md": '---\npaths:\n  - "**/db/**"\n---\nDB rule.',
            ".claude/rules/api.md": '---\npaths: ["apps/api/**/*.ts"]\n---\nAPI rule.',
            ".claude/rules/always.md": "Always rule.",
            ".cursor/rules/ts.mdc": "---\nglobs: apps/**/*.ts, lib/*.ts\n---\nCursor TS rule.",
            ".cursor/rules/always.mdc": "---\nalwaysApply: true\n---\nCursor always.",
            ".cursor/rules/described.mdc": "---\ndescription: When writing migrations\n---\nMigr.",
            ".github/copilot-instructions.md": "Copilot everywhere.",
            ".github/instructions/api.instructions.md": '---\napplyTo: "apps/api/**"\n---\nCopilot API.',
            ".github/instructions/web.instructions.md": '---\napplyTo: "apps/web/**"\n---\nCopilot web.',
        },
    )
    found = conventions(tmp_path / "apps/api/src/routes/x.ts", tmp_path, (tmp_path,))
    sources = [c.source for c in found]
    assert sources == [
        "apps/api/AGENTS.md",  # the nearest AGENTS.md only
        ".cursor/rules",
        ".cursor/rules/ts.mdc",
        ".cursor/rules/always.mdc",
        ".github/instructions/api.instructions.md",
        ".github/copilot-instructions.md",
        ".claude/rules/api.md",
        ".claude/rules/always.md",
        "apps/api/CLAUDE.md",
        "CLAUDE.local.md",
        "CLAUDE.md",
    ]
    text = {c.source: c.text for c in found}
    assert "Use named exports. Prefer early returns." in text["CLAUDE.md"]
    assert "@not/imported.md" in text["CLAUDE.md"]  # inside code: not an import
    assert text[".cursor/rules"].endswith(".cursor/rules/described.mdc: When writing migrations")


def test_imports_stop_after_four_hops_and_never_loop(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "CLAUDE.md": "0 @a.md",
            "a.md": "1 @b.md",
            "b.md": "2 @c.md",
            "c.md": "3 @d.md",
            "d.md": "4 @e.md",
            "e.md": "5",
            "loop.md": "@CLAUDE.md",
        },
    )
    (text,) = [c.text for c in conventions(tmp_path / "x.ts", tmp_path, (tmp_path,))]
    assert text == "0 1 2 3 4 @e.md"


def test_a_budget_leaves_the_least_specific_out(tmp_path: Path) -> None:
    _write(tmp_path, {"CLAUDE.md": "x" * 4000, "AGENTS.md": "Short."})
    rendered = render(conventions(tmp_path / "a.ts", tmp_path, (tmp_path,)), budget_tokens=100)
    assert rendered is not None
    assert "## From `AGENTS.md`\nShort." in rendered
    assert "(`CLAUDE.md` left out to fit; `view` it if it matters.)" in rendered


def test_nothing_written_down_adds_nothing(tmp_path: Path) -> None:
    assert render(conventions(tmp_path / "a.ts", tmp_path, (tmp_path,)), 1000) is None
    assert _sources(tmp_path, "a.ts") == []


_LONG = (
    "# Project\nRead this first.\n\n"
    "## Style\n" + "Prefer small functions over clever ones.\n" * 60 + "\n"
    "## Database operations\n" + "Every query goes through a repository.\n" * 12 + ""
    "```sh\n# migrate (a comment in code, not a heading)\npnpm db:migrate\n```\n\n"
    "## Routes\n" + "Every route validates its input.\n" * 15
)

# (the file acted on, what the cut file shows first, what it must not show)
CUTS = [
    pytest.param(
        "src/modules/users/users.model.ts",
        ["Read this first.", "## Database operations", "pnpm db:migrate", "[…]"],
        ["Prefer small functions", "## Routes"],
        id="a model file gets the database section, its code block whole",
    ),
    pytest.param(
        "src/routes/users.ts",
        ["Read this first.", "## Routes", "Every route validates its input."],
        ["Prefer small functions", "## Database operations"],
        id="a route file gets the routes section",
    ),
    pytest.param(
        "src/util.ts",
        ["Read this first.", "## Database operations"],
        ["Prefer small functions", "## Routes"],
        id="no area: the sections that fit, in order",
    ),
]


@pytest.mark.parametrize(("file", "shown", "hidden"), CUTS)
def test_a_long_file_is_cut_to_the_sections_of_the_files_area(
    tmp_path: Path, file: str, shown: list[str], hidden: list[str]
) -> None:
    _write(tmp_path, {"CLAUDE.md": _LONG})
    found = conventions(tmp_path / file, tmp_path, (tmp_path,))
    rendered = render(found, budget_tokens=250, file=file)
    assert rendered is not None
    total = len(_LONG.strip().splitlines())
    assert "## From `CLAUDE.md` (cut to fit: " in rendered
    assert f" of its {total} lines; `view` it for the rest)" in rendered
    for text in shown:
        assert text in rendered, text
    for text in hidden:
        assert text not in rendered, text
    assert (len(rendered) + 3) // 4 <= 250 + 20, "the share, give or take the block's own title"


_RULES = (
    "# Project\nRead this first.\n\n"
    "## Style\n" + "Prefer small functions over clever ones.\n" * 40 + "\n"
    "## Database operations\n" + "Every query goes through a repository.\n" * 10 + "\n"
    "## Error handling\n" + "Throw the domain errors, never a bare Error.\n" * 20 + "\n"
    "## Routes\n" + "Every route validates its input.\n" * 15
)


@pytest.mark.parametrize(
    ("intent", "shown", "hidden"),
    [
        # The menu's own instruction: its words name the section, the most of them first.
        ("error-handling", ["## Error handling", "Throw the domain errors"], ["## Style"]),
        ("optimize-query", ["## Database operations"], ["## Error handling", "## Style"]),
    ],
)
def test_a_long_file_is_cut_to_the_sections_the_task_is_about(
    tmp_path: Path, intent: str, shown: list[str], hidden: list[str]
) -> None:
    _write(tmp_path, {"CLAUDE.md": _RULES})
    found = conventions(tmp_path / "src/util.ts", tmp_path, (tmp_path,))
    task = next(item.instruction for item in INTENTS if item.id == intent)
    rendered = render(found, budget_tokens=300, file="src/util.ts", task=task)
    assert rendered is not None
    for text in shown:
        assert text in rendered, text
    for text in hidden:
        assert text not in rendered, text


def test_a_called_packages_rules_are_sent_as_their_opening_after_the_files_own(
    tmp_path: Path,
) -> None:
    _write(
        tmp_path,
        {
            "AGENTS.md": "Root rules.",
            "packages/services/AGENTS.md": "# Services\nCall a verb, map its errors.\n\n"
            "## Shape of a verb\nOne file per verb.\n",
            "packages/services/CLAUDE.md": "",  # empty: nothing to send
            "apps/api/src/router.ts": "",
        },
    )
    roots = (tmp_path,)
    found = conventions(tmp_path / "apps/api/src/router.ts", tmp_path, roots)
    # The file's own root rules are not repeated as a called package's.
    packages = [tmp_path / "packages/services", tmp_path]
    found += called_conventions(packages, found, roots)
    assert [(c.source, c.called) for c in found] == [
        ("AGENTS.md", False),
        ("packages/services/AGENTS.md", True),
    ]
    rendered = render(found, 1000)
    assert rendered is not None
    assert rendered.index("Root rules.") < rendered.index("Call a verb, map its errors.")
    assert "One file per verb." not in rendered
