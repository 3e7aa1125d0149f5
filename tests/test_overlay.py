"""The edit tool over the in-memory workspace: what it allows, refuses and records."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from subagent_lsp.edits import rebase
from subagent_lsp.exclusions import Exclusions
from subagent_lsp.overlay import DocumentSnapshot, Overlay

ROUTE = 'import { db } from "./db.js";\n\nexport const list = () => db.select();\n'


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "src").mkdir(parents=True)
    (root / "src" / "route.ts").write_text(ROUTE, encoding="utf-8")
    (root / ".env").write_text("DATABASE_URL=postgres://u:secret@h/db\n", encoding="utf-8")
    return root


def _overlay(root: Path, documents: dict[Path, DocumentSnapshot] | None = None) -> Overlay:
    return Overlay([root], documents or {}, is_excluded=Exclusions((root.resolve(),)))


def test_view_numbers_lines_of_the_open_document_text(root: Path) -> None:
    unsaved = "// unsaved\n" + ROUTE
    overlay = _overlay(root, {root / "src/route.ts": DocumentSnapshot(unsaved, 7)})
    result = overlay.execute({"command": "view", "path": "src/route.ts", "view_range": [1, 2]})
    assert not result.is_error
    assert result.content == '     1\t// unsaved\n     2\timport { db } from "./db.js";'


def test_view_lists_a_directory_without_secrets(root: Path) -> None:
    result = _overlay(root).execute({"command": "view", "path": "."})
    assert result.content.splitlines() == ["src/route.ts"]


def test_str_replace_needs_exactly_one_match(root: Path) -> None:
    overlay = _overlay(root)
    missing = overlay.execute(
        {"command": "str_replace", "path": "src/route.ts", "old_str": "nope", "new_str": "x"}
    )
    assert missing.is_error and "No match" in missing.content
    twice = overlay.execute(
        {"command": "str_replace", "path": "src/route.ts", "old_str": "db", "new_str": "x"}
    )
    assert twice.is_error and "Found 3 matches" in twice.content
    ok = overlay.execute(
        {
            "command": "str_replace",
            "path": "src/route.ts",
            "old_str": "db.select()",
            "new_str": "db.select().limit(20)",
        }
    )
    assert not ok.is_error
    (change,) = overlay.changes()
    assert change.original == ROUTE
    assert change.new_text == ROUTE.replace("db.select()", "db.select().limit(20)")
    assert change.version is None


def test_create_and_insert_build_new_text(root: Path) -> None:
    overlay = _overlay(root)
    overlay.execute({"command": "create", "path": "src/schemas/q.ts", "file_text": "export {};\n"})
    overlay.execute(
        {"command": "insert", "path": "src/route.ts", "insert_line": 1, "new_str": "import z;"}
    )
    created, edited = sorted(overlay.changes(), key=lambda c: c.path.name)
    assert created.path.name == "q.ts" and created.original is None
    assert edited.new_text.splitlines()[:2] == ['import { db } from "./db.js";', "import z;"]
    assert not (root / "src" / "schemas").exists(), "the overlay never writes to disk"


def test_insert_out_of_range_and_bad_parameters_are_errors(root: Path) -> None:
    overlay = _overlay(root)
    assert overlay.execute(
        {"command": "insert", "path": "src/route.ts", "insert_line": 99, "new_str": "x"}
    ).is_error
    assert overlay.execute({"command": "str_replace", "path": "src/route.ts"}).is_error
    assert overlay.execute({"command": "undo_edit", "path": "src/route.ts"}).is_error
    assert overlay.execute({"command": "delete", "path": "src/route.ts"}).is_error
    assert overlay.execute({"path": "src/route.ts"}).is_error
    assert overlay.changes() == []


@pytest.mark.parametrize("path", ["../outside.ts", "/etc/passwd", "src/../../outside.ts"])
def test_paths_outside_the_workspace_are_refused(root: Path, path: str) -> None:
    (root.parent / "outside.ts").write_text("secret", encoding="utf-8")
    overlay = _overlay(root)
    for command in (
        {"command": "view", "path": path},
        {"command": "create", "path": path, "file_text": "x"},
    ):
        result = overlay.execute(command)
        assert result.is_error and "outside the workspace" in result.content
    assert overlay.changes() == []


def test_a_symlink_out_of_the_workspace_is_refused(root: Path) -> None:
    outside = root.parent / "elsewhere"
    outside.mkdir()
    (outside / "key.ts").write_text("secret", encoding="utf-8")
    os.symlink(outside, root / "src" / "linked")
    result = _overlay(root).execute({"command": "view", "path": "src/linked/key.ts"})
    assert result.is_error and "outside the workspace" in result.content


def test_excluded_files_are_refused(root: Path) -> None:
    result = _overlay(root).execute({"command": "view", "path": ".env"})
    assert result.is_error and "excluded" in result.content
    assert "secret" not in result.content


def test_a_file_that_is_not_utf8_is_refused_and_untouched(root: Path) -> None:
    (root / "src" / "latin.ts").write_bytes(b"const s = '\xe9';\n")
    overlay = _overlay(root)
    result = overlay.execute({"command": "view", "path": "src/latin.ts"})
    assert result.is_error and "not a UTF-8 text file" in result.content


def test_crlf_files_keep_their_line_endings(root: Path) -> None:
    (root / "src" / "win.ts").write_bytes(b"const a = 1;\r\nconst b = 2;\r\n")
    overlay = _overlay(root)
    result = overlay.execute(
        {
            "command": "str_replace",
            "path": "src/win.ts",
            "old_str": "const a = 1;\nconst b = 2;",
            "new_str": "const a = 1;\nconst c = 3;\nconst b = 2;",
        }
    )
    assert not result.is_error
    (change,) = overlay.changes()
    assert change.new_text == "const a = 1;\r\nconst c = 3;\r\nconst b = 2;\r\n"


MIXED = "line 1\r\nline 2\r\nline 3\r\nline 4\nline 5\nline 6\nline 7\nline 8\n"


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        (MIXED, 9),
        ("a\rb\rc", 3),
        ("a\r\nb\r\n", 3),
        ("a\nb", 2),
    ],
)
def test_view_numbers_every_kind_of_line(root: Path, text: str, lines: int) -> None:
    (root / "src" / "mixed.ts").write_bytes(text.encode())
    overlay = Overlay([root], {})
    shown = overlay.execute({"command": "view", "path": "src/mixed.ts"})
    assert not shown.is_error
    assert len(shown.content.split("\n")) == lines


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (3, "line 1\r\nline 2\r\nline 3\r\nNEW\r\nline 4\nline 5\nline 6\nline 7\nline 8\n"),
        (6, "line 1\r\nline 2\r\nline 3\r\nline 4\nline 5\nline 6\nNEW\nline 7\nline 8\n"),
        (8, MIXED + "NEW\n"),
        (0, "NEW\r\n" + MIXED),
    ],
)
def test_insert_lands_after_the_line_view_numbered(root: Path, after: int, expected: str) -> None:
    (root / "src" / "mixed.ts").write_bytes(MIXED.encode())
    overlay = Overlay([root], {})
    result = overlay.execute(
        {"command": "insert", "path": "src/mixed.ts", "insert_line": after, "new_str": "NEW"}
    )
    assert not result.is_error, result.content
    (change,) = overlay.changes()
    assert change.new_text == expected
    assert rebase(change, MIXED) == expected


def test_text_copied_from_view_replaces_across_line_endings(root: Path) -> None:
    (root / "src" / "mixed.ts").write_bytes(MIXED.encode())
    overlay = Overlay([root], {})
    shown = overlay.execute({"command": "view", "path": "src/mixed.ts", "view_range": [2, 5]})
    copied = "\n".join(line.split("\t", 1)[1] for line in shown.content.split("\n"))
    assert copied == "line 2\nline 3\nline 4\nline 5"
    result = overlay.execute(
        {
            "command": "str_replace",
            "path": "src/mixed.ts",
            "old_str": copied,
            "new_str": "two\nthree",
        }
    )
    assert not result.is_error, result.content
    (change,) = overlay.changes()
    # The new lines take the break of the line they land on: CRLF here.
    assert change.new_text == "line 1\r\ntwo\r\nthree\nline 6\nline 7\nline 8\n"
    assert rebase(change, MIXED) == change.new_text


def test_a_carriage_return_file_keeps_its_breaks(root: Path) -> None:
    (root / "src" / "mac.ts").write_bytes(b"a;\rb;\r")
    overlay = Overlay([root], {})
    overlay.execute(
        {"command": "str_replace", "path": "src/mac.ts", "old_str": "b;", "new_str": "b;\nc;"}
    )
    (change,) = overlay.changes()
    assert change.new_text == "a;\rb;\rc;\r"
