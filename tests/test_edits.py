"""From new texts to minimal edits, rebased onto newer text, in each client's form."""

from __future__ import annotations

import itertools
import random
import time
from pathlib import Path

import pytest
from lsprotocol import types

from subagent_lsp.edits import (
    EditCapabilities,
    EditNotSupported,
    PlannedFile,
    RebaseFailed,
    apply_changes,
    build_workspace_edit,
    minimal_changes,
    rebase,
)
from subagent_lsp.overlay import EditOp, FileChange
from subagent_lsp.positions import offset_to_position, position_to_offset

FULL = EditCapabilities(True, True, True, "utf-16")


def test_a_one_word_edit_is_one_small_change() -> None:
    old = "const a = 1;\nconst rows = await db.select();\nreturn rows;\n"
    new = old.replace("select()", "select({ id: users.id })")
    (change,) = minimal_changes(old, new)
    assert change.start == change.end == old.index("select()") + len("select(")
    assert change.new_text == "{ id: users.id }"


def test_changes_round_trip_on_random_texts() -> None:
    rng = random.Random(20261125)
    alphabet = ["a", "b", "\n", " ", "é", "🚀", "\r\n", "x\n"]
    for _ in range(500):
        old = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        new = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        changes = minimal_changes(old, new)
        assert apply_changes(old, changes) == new
        assert all(a.end <= b.start for a, b in itertools.pairwise(changes))


def test_a_one_line_change_in_a_big_file_is_fast() -> None:
    old = "".join(f"const v{i} = {i};\n" for i in range(5000))
    new = old.replace("const v2500 = 2500;", "const v2500 = 0;")
    started = time.perf_counter()
    changes = minimal_changes(old, new)
    assert len(changes) == 1
    # Generous bound: a regression to quadratic behaviour would take seconds.
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(("encoding", "character"), [("utf-16", 3), ("utf-8", 6), ("utf-32", 2)])
def test_positions_after_astral_characters_land_exactly(encoding: str, character: int) -> None:
    text = "x\n🚀é|rest"
    offset = text.index("|")
    position = offset_to_position(text, offset, encoding)
    assert position == types.Position(line=1, character=character)
    assert position_to_offset(text, position, encoding) == offset


def test_a_position_inside_a_surrogate_pair_rounds_down_and_past_the_end_clamps() -> None:
    text = "🚀a\nb"
    assert position_to_offset(text, types.Position(line=0, character=1), "utf-16") == 0
    assert position_to_offset(text, types.Position(line=0, character=99), "utf-16") == 2
    assert position_to_offset(text, types.Position(line=9, character=0), "utf-16") == len(text)


def _change(original: str, *ops: EditOp) -> FileChange:
    return FileChange(Path("/w/a.ts"), original, "", 1, ops)


def test_rebase_replays_edits_when_the_document_changed_elsewhere() -> None:
    original = "const a = 1;\nconst b = 2;\n"
    change = _change(
        original,
        EditOp("str_replace", "const b = 2;", "const b = 3;"),
        EditOp("insert", None, "const c = 4;\n", 1, "const a = 1;"),
    )
    assert rebase(change, "// header\n" + original) == (
        "// header\nconst a = 1;\nconst c = 4;\nconst b = 3;\n"
    )


def test_rebase_fails_when_the_edited_code_changed() -> None:
    change = _change("const b = 2;\n", EditOp("str_replace", "const b = 2;", "const b = 3;"))
    with pytest.raises(RebaseFailed, match="no longer there"):
        rebase(change, "const b = 20;\n")
    with pytest.raises(RebaseFailed, match="exactly once"):
        rebase(change, "const b = 2;\nconst b = 2;\n")


def _edits(edit: types.WorkspaceEdit) -> list[types.TextDocumentEdit]:
    return [c for c in edit.document_changes or [] if isinstance(c, types.TextDocumentEdit)]


def test_a_single_file_edit_carries_its_version_and_no_confirmation() -> None:
    edit = build_workspace_edit(
        [PlannedFile("file:///w/a.ts", "let a = 1;\n", "let a = 2;\n", 5)], FULL, label="x"
    )
    (doc,) = _edits(edit)
    assert doc.text_document.version == 5
    (text_edit,) = doc.edits
    assert isinstance(text_edit, types.TextEdit) and text_edit.new_text == "2"
    assert edit.change_annotations is None


def test_a_multi_file_edit_with_a_new_file_asks_for_confirmation() -> None:
    edit = build_workspace_edit(
        [
            PlannedFile("file:///w/a.ts", "a\n", "b\n", 3),
            PlannedFile("file:///w/new.ts", None, "export {};\n", None),
        ],
        FULL,
        label="backend-engineer: Add validation",
    )
    changes = edit.document_changes or []
    create = next(c for c in changes if isinstance(c, types.CreateFile))
    assert create.uri == "file:///w/new.ts" and create.annotation_id is not None
    annotation = (edit.change_annotations or {})[create.annotation_id]
    assert annotation.needs_confirmation and annotation.label == "backend-engineer: Add validation"
    assert changes.index(create) < len(changes) - 1, "the file is created before it is written"
    for doc in _edits(edit):
        assert all(isinstance(e, types.AnnotatedTextEdit) for e in doc.edits)


def test_clients_without_document_changes_get_the_plain_form() -> None:
    caps = EditCapabilities(False, False, False, "utf-16")
    edit = build_workspace_edit([PlannedFile("file:///w/a.ts", "a\n", "b\n", 3)], caps, label="x")
    assert edit.document_changes is None
    assert list((edit.changes or {}).keys()) == ["file:///w/a.ts"]
    with pytest.raises(EditNotSupported):
        build_workspace_edit([PlannedFile("file:///w/n.ts", None, "x", None)], caps, label="x")


def test_client_capabilities_are_read_like_editors_mean_them() -> None:
    neovim_like = types.ClientCapabilities(
        workspace=types.WorkspaceClientCapabilities(
            workspace_edit=types.WorkspaceEditClientCapabilities(
                resource_operations=[types.ResourceOperationKind.Create]
            )
        )
    )
    caps = EditCapabilities.from_client(neovim_like, "utf-8")
    assert caps.document_changes and caps.create_files and not caps.change_annotations
    bare = EditCapabilities.from_client(types.ClientCapabilities())
    assert not bare.document_changes and not bare.create_files
