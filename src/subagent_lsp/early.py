"""Answer `initialize` while the server is still loading.

Loading the protocol types takes most of a second (they are some six hundred classes built at
import), and an editor sends nothing else until `initialize` is answered. So the process loads
the server in a thread while this module, which needs only the standard library, reads the first
message from stdin; if it is `initialize`, it is answered at once with the capabilities the
server is going to announce. The message is then handed to the server like any other, which
sets up the workspace and settings from it; the server's own answer is compared with the one
already sent and dropped (see ``AgentProtocol``).

Anything unexpected (another first message, a malformed header, Windows' text-mode stdio) and
this steps aside: the server then reads and answers everything itself, as it always can.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from . import __version__
from .ids import CODE_ACTION_KINDS, COMMANDS

_T = TypeVar("_T")

# The server's capabilities, as pygls builds them from the registered features; a test compares
# them with pygls's own for many clients, so a new feature cannot be forgotten here.
_ENCODINGS = ("utf-8", "utf-16", "utf-32")
_MAX_HEADER = 4096


def _get(mapping: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(mapping, Mapping):
            return None
        mapping = mapping.get(key)
    return mapping


def position_encoding(client: Mapping[str, Any]) -> str:
    """The client's first preference that the server supports; UTF-16 if it names none."""
    offered = _get(client, "general", "positionEncodings")
    if isinstance(offered, list):
        for encoding in offered:
            if encoding in _ENCODINGS:
                return str(encoding)
    return "utf-16"


def capabilities(client: Mapping[str, Any]) -> dict[str, Any]:
    sync: dict[str, Any] = {"openClose": True, "change": 2, "save": True}
    # Present (and false, as no will-save handler is registered) only when the client names them.
    for key in ("willSave", "willSaveWaitUntil"):
        if _get(client, "textDocument", "synchronization", key) is not None:
            sync[key] = False
    return {
        "positionEncoding": position_encoding(client),
        "textDocumentSync": sync,
        "hoverProvider": True,
        "codeActionProvider": {
            "codeActionKinds": list(CODE_ACTION_KINDS),
            "resolveProvider": False,
        },
        "executeCommandProvider": {"commands": list(COMMANDS)},
        "workspace": {
            "workspaceFolders": {"supported": True, "changeNotifications": True},
            "fileOperations": {},
        },
    }


def initialize_result(client: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "capabilities": capabilities(client),
        "serverInfo": {"name": "subagent-lsp", "version": __version__},
    }


@dataclass(frozen=True)
class Answered:
    msg_id: int | str
    result: dict[str, Any]


@dataclass(frozen=True)
class EarlyStart(Generic[_T]):
    loaded: _T
    already_read: bytes
    """Everything taken from stdin so far, the `initialize` message included, for the server."""
    answered: Answered | None


def answer_while_loading(load: Callable[[], _T]) -> EarlyStart[_T]:
    """``load()`` in a thread while the first message is read and, if `initialize`, answered."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(load())
        except BaseException as exc:  # re-raised below, in the caller's thread
            outcome.append(exc)

    loader = threading.Thread(target=run, name="load-server", daemon=True)
    # The loader holds the interpreter while it imports; hand it over soon when a message comes.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    loader.start()
    try:
        already_read, answered = _answer_first_message()
        loader.join()
    finally:
        sys.setswitchinterval(interval)
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return EarlyStart(outcome[0], already_read, answered)


def _answer_first_message() -> tuple[bytes, Answered | None]:
    if sys.platform == "win32":
        return b"", None
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > _MAX_HEADER:
            return data, None
        chunk = _read()
        if not chunk:
            return data, None
        data += chunk
    header, _, rest = data.partition(b"\r\n\r\n")
    length = _content_length(header)
    if length is None:
        return data, None
    while len(rest) < length:
        chunk = _read()
        if not chunk:
            return data, None
        data += chunk
        rest += chunk
    message = _initialize_request(rest[:length])
    if message is None:
        return data, None
    answered = Answered(message["id"], initialize_result(message["params"]["capabilities"]))
    body = json.dumps({"jsonrpc": "2.0", "id": answered.msg_id, "result": answered.result})
    _write(b"Content-Length: %d\r\n\r\n%s" % (len(body.encode()), body.encode()))
    return data, answered


def _read() -> bytes:
    try:
        return os.read(0, 1 << 16)
    except OSError:
        return b""


def _write(data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(1, view) :]


def _content_length(header: bytes) -> int | None:
    for line in header.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            return int(value)
    return None


def _initialize_request(body: bytes) -> dict[str, Any] | None:
    try:
        message = json.loads(body)
    except ValueError:
        return None
    if not (
        isinstance(message, dict)
        and message.get("jsonrpc") == "2.0"
        and message.get("method") == "initialize"
        and isinstance(message.get("id"), int | str)
        and not isinstance(message.get("id"), bool)
        and isinstance(_get(message, "params", "capabilities"), dict)
    ):
        return None
    return message
