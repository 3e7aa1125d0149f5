"""From new file texts to the smallest WorkspaceEdit each client can apply."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from lsprotocol import types

from .overlay import FileChange
from .positions import LineIndex, common_break

_ANNOTATION_ID = "subagent-lsp"


@dataclass(frozen=True)
class TextChange:
    start: int
    end: int
    new_text: str
    """Replace old[start:end] with new_text (code-point offsets into the old text)."""


def _trimmed(old: str, new: str, start: int, end: int, new_start: int, new_end: int) -> TextChange:
    """The replacement of old[start:end] by new[new_start:new_end], minus common ends."""
    while start < end and new_start < new_end and old[start] == new[new_start]:
        start += 1
        new_start += 1
    while end > start and new_end > new_start and old[end - 1] == new[new_end - 1]:
        end -= 1
        new_end -= 1
    return TextChange(start, end, new[new_start:new_end])


def minimal_changes(old: str, new: str) -> list[TextChange]:
    """Small, ascending, non-overlapping changes that turn ``old`` into ``new``."""
    if old == new:
        return []
    old_lines = old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    old_starts = [0]
    for line in old_lines:
        old_starts.append(old_starts[-1] + len(line))
    new_starts = [0]
    for line in new_lines:
        new_starts.append(new_starts[-1] + len(line))
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    changes: list[TextChange] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        change = _trimmed(old, new, old_starts[i1], old_starts[i2], new_starts[j1], new_starts[j2])
        if change.start != change.end or change.new_text:
            changes.append(change)
    return changes


def apply_changes(text: str, changes: Sequence[TextChange]) -> str:
    out: list[str] = []
    cursor = 0
    for change in sorted(changes, key=lambda c: c.start):
        out.append(text[cursor : change.start])
        out.append(change.new_text)
        cursor = change.end
    out.append(text[cursor:])
    return "".join(out)


class RebaseFailed(Exception):
    pass


def rebase(change: FileChange, current_text: str) -> str:
    """Replay the change's edits on a newer text; every anchor must still match exactly once."""
    text = current_text
    for op in change.ops:
        if op.kind == "create":
            raise RebaseFailed("the agent rewrote the whole file, which cannot follow newer edits")
        if op.kind == "str_replace":
            assert op.old_str is not None
            count = text.count(op.old_str)
            if count != 1:
                raise RebaseFailed(
                    "the code the agent replaced no longer occurs exactly once"
                    if count
                    else "the code the agent replaced is no longer there"
                )
            text = text.replace(op.old_str, op.new_str, 1)
            continue
        if op.anchor is None:
            text = op.new_str + text
            continue
        lines = LineIndex(text)
        matches = [
            line
            for line in range(lines.line_count)
            if text[slice(*lines.line_bounds(line))] == op.anchor
        ]
        if len(matches) != 1:
            raise RebaseFailed("the line the agent inserted after no longer occurs exactly once")
        after = matches[0]
        if after + 1 < lines.line_count:
            at = lines.starts[after + 1]
        else:
            # The anchor is the last line and has no break: give it the file's usual one.
            text += common_break(text)
            at = len(text)
        text = text[:at] + op.new_str + text[at:]
    return text


@dataclass(frozen=True)
class EditCapabilities:
    document_changes: bool
    create_files: bool
    change_annotations: bool
    position_encoding: str

    @classmethod
    def from_client(
        cls, caps: types.ClientCapabilities | None, position_encoding: str = "utf-16"
    ) -> EditCapabilities:
        edit = caps.workspace.workspace_edit if caps and caps.workspace else None
        operations = (
            [str(getattr(op, "value", op)) for op in (edit.resource_operations or [])]
            if edit
            else []
        )
        # Resource operations exist only inside documentChanges, so a client that declares them
        # accepts documentChanges even when it leaves the flag out (Neovim does).
        document_changes = bool(edit and (edit.document_changes or operations))
        return cls(
            document_changes=document_changes,
            create_files=document_changes and "create" in operations,
            change_annotations=bool(edit and edit.change_annotation_support is not None),
            position_encoding=position_encoding,
        )


class EditNotSupported(Exception):
    pass


@dataclass(frozen=True)
class PlannedFile:
    uri: str
    old_text: str | None
    new_text: str
    version: int | None


def _text_edits(old: str, new: str, encoding: str) -> list[types.TextEdit]:
    index = LineIndex(old)
    return [
        types.TextEdit(
            range=types.Range(
                start=index.position(change.start, encoding),
                end=index.position(change.end, encoding),
            ),
            new_text=change.new_text,
        )
        for change in minimal_changes(old, new)
    ]


def _annotated(
    edits: list[types.TextEdit], annotation: str | None
) -> list[types.TextEdit | types.AnnotatedTextEdit]:
    if annotation is None:
        return list(edits)
    return [
        types.AnnotatedTextEdit(range=e.range, new_text=e.new_text, annotation_id=annotation)
        for e in edits
    ]


def build_workspace_edit(
    files: Sequence[PlannedFile],
    caps: EditCapabilities,
    *,
    label: str,
    confirm: bool | None = None,
) -> types.WorkspaceEdit:
    """``confirm``: whether the editor should ask before applying (where it can); by default only
    for changes that reach beyond one existing file."""
    creates = any(planned.old_text is None for planned in files)
    if creates and not caps.create_files:
        raise EditNotSupported(
            "the change creates a file, and this editor cannot create files through the language server"
        )
    if confirm is None:
        confirm = creates or len(files) > 1
    confirm = confirm and caps.change_annotations and caps.document_changes
    annotation = _ANNOTATION_ID if confirm else None
    if not caps.document_changes:
        return types.WorkspaceEdit(
            changes={
                planned.uri: _text_edits(
                    planned.old_text or "", planned.new_text, caps.position_encoding
                )
                for planned in files
            }
        )
    document_changes: list[
        types.TextDocumentEdit | types.CreateFile | types.RenameFile | types.DeleteFile
    ] = []
    for planned in files:
        if planned.old_text is None:
            document_changes.append(
                types.CreateFile(
                    uri=planned.uri,
                    options=types.CreateFileOptions(overwrite=False, ignore_if_exists=False),
                    annotation_id=annotation,
                )
            )
        edits = _annotated(
            _text_edits(planned.old_text or "", planned.new_text, caps.position_encoding),
            annotation,
        )
        if not edits:
            continue
        document_changes.append(
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(
                    uri=planned.uri, version=planned.version
                ),
                edits=list(edits),
            )
        )
    annotations = None
    if annotation is not None:
        count = len(files)
        annotations = {
            annotation: types.ChangeAnnotation(
                label=label,
                needs_confirmation=True,
                description=f"Changes {count} file{'s' if count != 1 else ''} as the agent proposed",
            )
        }
    return types.WorkspaceEdit(document_changes=document_changes, change_annotations=annotations)
