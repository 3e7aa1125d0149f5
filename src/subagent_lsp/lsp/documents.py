"""The editor's view of the workspace: folders, open documents, and uri <-> path conversion."""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from pygls.workspace import TextDocument, Workspace

from ..overlay import DocumentSnapshot
from ..project import find_root

_WINDOWS = os.name == "nt"
_DRIVE = re.compile(r"^/?([A-Za-z]):(?=/|$)")


def fs_path_of(uri: str, *, windows: bool = _WINDOWS) -> str | None:
    """The file system path a `file:` uri names, in the given platform's form; None for other
    schemes and for a remote host on POSIX.

    Editors encode differently (VS Code `file:///c%3A/My%20Project`, Neovim
    `file:///C:/My%20Project`, `@` and `+` kept or not): every form decodes to the same path.
    """
    parts = urlsplit(uri)
    if parts.scheme.lower() != "file":
        return None
    path = unquote(parts.path, errors="strict")
    host = parts.netloc if parts.netloc.lower() != "localhost" else ""
    if not windows:
        return None if host else path or "/"
    if host:
        # A UNC share: file://server/share/dir -> \\server\share\dir
        return "\\\\" + host + path.replace("/", "\\")
    drive = _DRIVE.match(path)
    if drive:
        path = drive[1].upper() + ":" + path[drive.end() :]
    return path.replace("/", "\\") or "\\"


def uri_of(fs_path: str, *, windows: bool = _WINDOWS) -> str:
    """A `file:` uri for a path, encoded as VS Code encodes (only unreserved characters kept)."""
    if not windows:
        return "file://" + quote(fs_path, safe="/")
    path = fs_path.replace("\\", "/")
    if path.startswith("//"):
        host, _, rest = path[2:].partition("/")
        return f"file://{host}/" + quote(rest, safe="/")
    drive = _DRIVE.match(path)
    if drive:
        path = "/" + drive[1].lower() + ":" + path[drive.end() :]
    return "file://" + quote(path, safe="/")


def uri_to_path(uri: str) -> Path | None:
    """The file a uri names, or None for non-file uris (``untitled:``, ``git:`` and the like)."""
    try:
        fs_path = fs_path_of(uri)
    except UnicodeDecodeError:
        return None
    # A NUL names no file anywhere, and would fail every later look at the path.
    return _resolved(fs_path) if fs_path and "\0" not in fs_path else None


@lru_cache(maxsize=4096)
def _resolved(fs_path: str) -> Path:
    # Every request names its document, and resolving walks the path with one lstat per part.
    # Remembering is safe: whatever is read or written is checked again, symlinks resolved anew,
    # by the overlay (see overlay.py).
    return Path(fs_path).resolve()


def path_to_uri(path: Path) -> str:
    return uri_of(str(path))


def client_uri(workspace: Workspace, path: Path) -> str:
    """The uri to name ``path`` by in what is sent to the client.

    An open document keeps the uri its client opened it with, byte for byte, so the client finds
    it; any other file is named below the closest folder the client has named (a workspace folder
    or an open document's folder), keeping the client's own spelling of that part.
    """
    best: tuple[int, str] | None = None
    for doc in workspace.text_documents.values():
        doc_path = uri_to_path(doc.uri)
        if doc_path == path:
            return str(doc.uri)
        if doc_path is not None:
            best = _longer(best, doc_path.parent, doc.uri.rsplit("/", 1)[0], path)
    for folder in workspace.folders.values():
        folder_path = uri_to_path(folder.uri)
        if folder_path is not None:
            best = _longer(best, folder_path, folder.uri, path)
    if best is None:
        return path_to_uri(path)
    depth, base = best
    below = path.parts[depth:]
    return base.rstrip("/") + "".join("/" + quote(part, safe="") for part in below)


def _longer(
    best: tuple[int, str] | None, folder: Path, folder_uri: str, path: Path
) -> tuple[int, str] | None:
    if folder != path and folder not in path.parents:
        return best
    depth = len(folder.parts)
    return (depth, folder_uri) if best is None or depth > best[0] else best


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
