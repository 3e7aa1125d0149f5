"""The editor's view of the workspace: folders, open documents, and uri <-> path conversion."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote

from pygls.uris import from_fs_path, to_fs_path
from pygls.workspace import TextDocument, Workspace

from ..overlay import DocumentSnapshot
from ..project import find_root


def uri_to_path(uri: str) -> Path | None:
    """The file a uri names, or None for non-file uris (``untitled:``, ``git:`` and the like)."""
    if not uri.startswith("file:"):
        return None
    fs_path = to_fs_path(uri)
    return _resolved(fs_path) if fs_path else None


@lru_cache(maxsize=4096)
def _resolved(fs_path: str) -> Path:
    # Every request names its document, and resolving walks the path with one lstat per part.
    # Remembering is safe: whatever is read or written is checked again, symlinks resolved anew,
    # by the overlay (see overlay.py).
    return Path(fs_path).resolve()


def path_to_uri(path: Path) -> str:
    uri = from_fs_path(str(path))
    return uri if uri is not None else path.as_uri()


def document(workspace: Workspace, uri: str) -> TextDocument | None:
    """The open document a client's uri names. pygls keys open documents by the decoded uri, so
    `file:///My%20Project/x.ts` must be looked up as such; every handler looks up this way."""
    found: TextDocument | None = workspace.text_documents.get(unquote(uri))
    return found


def workspace_roots(workspace: Workspace, fallback_file: Path | None = None) -> tuple[Path, ...]:
    roots: list[Path] = []
    for folder in workspace.folders.values():
        path = uri_to_path(folder.uri)
        if path is not None and path not in roots:
            roots.append(path)
    if not roots and workspace.root_uri:
        path = uri_to_path(workspace.root_uri)
        if path is not None:
            roots.append(path)
    if not roots and fallback_file is not None:
        # A client started without a workspace (single-file mode): use the file's project.
        roots.append(find_root(fallback_file))
    return tuple(roots)


def open_documents(workspace: Workspace) -> dict[Path, DocumentSnapshot]:
    documents: dict[Path, DocumentSnapshot] = {}
    for uri, doc in workspace.text_documents.items():
        path = uri_to_path(uri)
        if path is not None:
            documents[path] = DocumentSnapshot(doc.source, doc.version)
    return documents
