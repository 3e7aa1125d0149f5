"""A scripted editor around pytest-lsp's client: it keeps documents, applies edits like a real client.

The server under test runs as a real subprocess over stdio. This editor answers
`workspace/applyEdit` the way VS Code and Neovim do: it refuses an edit whose document version is
stale, applies the rest transactionally, writes files that are not open, and then reports the new
text back with `didChange`, so the server sees exactly what an editor would send.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union
from urllib.parse import quote, unquote, urlsplit

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

PRESETS = {"neovim": "neovim@v0.11.0", "vscode": "visual-studio-code"}


def client_uri(path: Path, preset: str) -> str:
    """A file uri spelled as each editor spells it: VS Code keeps only unreserved characters and
    writes upper-case escapes; Neovim (`vim.uri_from_fname`) also keeps RFC 3986's sub-delimiters,
    `:` and `@`, and writes lower-case escapes."""
    if preset == "neovim":
        encoded = quote(str(path), safe="/!$&'()*+,;=:@")
        return "file://" + "".join(
            part.lower() if part.startswith("%") else part for part in _escapes_and_text(encoded)
        )
    return "file://" + quote(str(path), safe="/")


def _escapes_and_text(encoded: str) -> list[str]:
    out: list[str] = []
    index = 0
    while index < len(encoded):
        if encoded[index] == "%":
            out.append(encoded[index : index + 3])
            index += 3
        else:
            out.append(encoded[index])
            index += 1
    return out


def path_of(uri: str) -> Path:
    return Path(unquote(urlsplit(uri).path))


def _units(ch: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(ch.encode("utf-8"))
    if encoding == "utf-32":
        return 1
    return 2 if ord(ch) > 0xFFFF else 1


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _line_starts(text: str) -> list[int]:
    # As the specification says and editors do: `\r\n`, `\r` and `\n` each end a line.
    return [0] + [match.end() for match in _LINE_BREAK.finditer(text)]


def offset_of(text: str, pos: types.Position, encoding: str) -> int:
    starts = _line_starts(text)
    line = min(pos.line, len(starts) - 1)
    offset = starts[line]
    end = starts[line + 1] if line + 1 < len(starts) else len(text)
    content = text[offset:end].rstrip("\r\n")
    units = 0
    for ch in content:
        if units >= pos.character:
            break
        units += _units(ch, encoding)
        offset += 1
    return offset


def position_of(text: str, offset: int, encoding: str) -> types.Position:
    starts = _line_starts(text)
    line = max(n for n, start in enumerate(starts) if start <= offset)
    column_text = text[starts[line] : offset]
    return types.Position(line=line, character=sum(_units(c, encoding) for c in column_text))


def apply_text_edits(
    text: str, edits: Sequence[types.TextEdit | types.AnnotatedTextEdit], encoding: str
) -> str:
    spans = sorted(
        (
            (
                offset_of(text, e.range.start, encoding),
                offset_of(text, e.range.end, encoding),
                e.new_text,
            )
            for e in edits
        ),
        reverse=True,
    )
    for start, end, new_text in spans:
        text = text[:start] + new_text + text[end:]
    return text


@dataclass
class OpenDocument:
    uri: str
    text: str
    version: int
    language_id: str


@dataclass
class Editor:
    client: LanguageClient
    root: Path
    preset: str
    documents: dict[str, OpenDocument] = field(default_factory=dict)
    edits: list[types.ApplyWorkspaceEditParams] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    encoding: str = "utf-16"
    # Neovim reports b:changedtick, which grows by more than one per change.
    version_step: int = 1
    on_apply: Any = None
    registrations: list[types.Registration] = field(default_factory=list)
    explained: list[Any] = field(default_factory=list)
    """`subagent-lsp/explanationReady` notifications received, in order."""
    proposals: list[Any] = field(default_factory=list)
    """`subagent-lsp/reviewEdit` notifications received, in order."""

    def uri(self, relative: str) -> str:
        return client_uri((self.root / relative).resolve(), self.preset)

    def path(self, relative: str) -> Path:
        return self.root / relative

    async def initialize(
        self,
        options: dict[str, Any] | None = None,
        *,
        folders: bool = True,
        more_folders: Sequence[Path] = (),
        review_edits: bool = False,
    ) -> types.InitializeResult:
        """``review_edits``: announce a review UI, as the editor packages do."""
        caps = client_capabilities(PRESETS[self.preset])
        if review_edits:
            caps.experimental = {"subagentLsp": {"reviewEdits": True}}
        self.version_step = 2 if self.preset == "neovim" else 1

        async def apply_edit(
            params: types.ApplyWorkspaceEditParams,
        ) -> types.ApplyWorkspaceEditResult:
            return await self._apply_edit(params)

        self.client.feature(types.WORKSPACE_APPLY_EDIT)(apply_edit)

        def register_capability(params: types.RegistrationParams) -> None:
            self.registrations.extend(params.registrations)

        self.client.feature(types.CLIENT_REGISTER_CAPABILITY)(register_capability)

        def explanation_ready(params: Any) -> None:
            self.explained.append(params)

        self.client.feature("subagent-lsp/explanationReady")(explanation_ready)

        def review_edit(params: Any) -> None:
            self.proposals.append(params)

        self.client.feature("subagent-lsp/reviewEdit")(review_edit)
        _tell_code_actions_from_commands(self.client)
        root_uri = client_uri(self.root.resolve(), self.preset)
        result = await self.client.initialize_session(
            types.InitializeParams(
                capabilities=caps,
                root_uri=root_uri,
                workspace_folders=[
                    types.WorkspaceFolder(
                        uri=client_uri(folder.resolve(), self.preset), name=folder.name
                    )
                    for folder in (self.root, *more_folders)
                ]
                if folders
                else None,
                initialization_options=options,
            )
        )
        encoding = result.capabilities.position_encoding
        self.encoding = str(getattr(encoding, "value", encoding) or "utf-16")
        return result

    def open(self, relative: str, text: str | None = None, language_id: str = "typescript") -> str:
        uri = self.uri(relative)
        if text is None:
            text = self.path(relative).read_text(encoding="utf-8")
        doc = OpenDocument(uri, text, 1, language_id)
        self.documents[uri] = doc
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id=language_id, version=doc.version, text=text
                )
            )
        )
        return uri

    def change(self, uri: str, new_text: str) -> None:
        doc = self.documents[uri]
        doc.text = new_text
        doc.version += self.version_step
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=doc.version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=new_text)],
            )
        )

    def save(self, uri: str) -> None:
        doc = self.documents[uri]
        path_of(uri).write_text(doc.text, encoding="utf-8")
        self.client.text_document_did_save(
            types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )

    def text(self, uri: str) -> str:
        return self.documents[uri].text

    def range_of(self, uri: str, needle: str, *, empty: bool = False) -> types.Range:
        """The range of the first occurrence of ``needle``, or the cursor at its start."""
        text = self.documents[uri].text
        start = text.index(needle)
        end = start if empty else start + len(needle)
        return types.Range(
            start=position_of(text, start, self.encoding), end=position_of(text, end, self.encoding)
        )

    async def code_actions(self, uri: str, rng: types.Range) -> list[types.CodeAction]:
        result = await self.client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=rng,
                context=types.CodeActionContext(diagnostics=[]),
            )
        )
        return [item for item in result or [] if isinstance(item, types.CodeAction)]

    async def run(self, action: types.CodeAction | types.Command) -> Any:
        command = action.command if isinstance(action, types.CodeAction) else action
        assert command is not None
        return await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=command.command, arguments=command.arguments)
        )

    async def _apply_edit(
        self, params: types.ApplyWorkspaceEditParams
    ) -> types.ApplyWorkspaceEditResult:
        self.edits.append(params)
        if self.on_apply is not None:
            await self.on_apply(params)
        try:
            self._apply(params.edit)
        except ValueError as exc:
            self.refused.append(str(exc))
            return types.ApplyWorkspaceEditResult(applied=False, failure_reason=str(exc))
        return types.ApplyWorkspaceEditResult(applied=True)

    def _apply(self, edit: types.WorkspaceEdit) -> None:
        # Validate everything first so a refused edit changes nothing, as editors do.
        planned: list[tuple[str, str]] = []
        created: list[Path] = []
        texts: dict[str, str] = {}

        def current(uri: str) -> str:
            if uri in texts:
                return texts[uri]
            if uri in self.documents:
                return self.documents[uri].text
            path = path_of(uri)
            if path in created:
                return ""
            if not path.exists():
                raise ValueError(f"{uri} does not exist")
            return path.read_text(encoding="utf-8")

        for change in edit.document_changes or []:
            if isinstance(change, types.CreateFile):
                path = path_of(change.uri)
                if path.exists() and not (change.options and change.options.ignore_if_exists):
                    raise ValueError(f"{change.uri} already exists")
                created.append(path)
            elif isinstance(change, types.TextDocumentEdit):
                uri = change.text_document.uri
                doc = self.documents.get(uri)
                if change.text_document.version is not None and (
                    doc is None or doc.version != change.text_document.version
                ):
                    raise ValueError(f"version mismatch for {uri}")
                edits = [
                    e
                    for e in change.edits
                    if isinstance(e, types.TextEdit | types.AnnotatedTextEdit)
                ]
                texts[uri] = apply_text_edits(current(uri), edits, self.encoding)
            else:
                raise ValueError(f"unsupported change {type(change).__name__}")
        for uri, edits in (edit.changes or {}).items():
            texts[uri] = apply_text_edits(current(uri), edits, self.encoding)
        for path in created:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("", encoding="utf-8")
        for uri, text in texts.items():
            planned.append((uri, text))
        for uri, text in planned:
            if uri in self.documents:
                self.change(uri, text)
            else:
                path_of(uri).write_text(text, encoding="utf-8")

    async def shutdown(self) -> None:
        await self.client.shutdown_session()


def _tell_code_actions_from_commands(client: LanguageClient) -> None:
    """Read `(Command | CodeAction)[]` the way editors do: a Command's `command` is a string.

    lsprotocol's own hook treats any item with a `command` key as a Command, which turns every
    CodeAction that carries a command into a broken Command on the client side.
    """
    converter = client.protocol._converter

    def structure(obj: Any, _: type) -> types.Command | types.CodeAction:
        if isinstance(obj.get("command"), str):
            return converter.structure(obj, types.Command)
        return converter.structure(obj, types.CodeAction)

    converter.register_structure_hook(Union[types.Command, types.CodeAction], structure)  # noqa: UP007


def server_config(env: dict[str, str]) -> ClientServerConfig:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    base.update(env)
    return ClientServerConfig(
        server_command=[sys.executable, "-m", "subagent_lsp"], server_env=base
    )


async def wait_until(predicate: Any, timeout: float = 10.0, interval: float = 0.02) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)
