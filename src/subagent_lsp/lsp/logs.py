"""Where the server's log lines go: the editor's log through window/logMessage, with the right
type, once a client is attached; stderr only for real failures (and for what happens before a
client exists), since editors record every stderr line as an error."""

from __future__ import annotations

import logging
from typing import ClassVar

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams, JsonRpcRequestCancelled
from pygls.lsp.server import LanguageServer

EXPECTED = (JsonRpcInvalidParams, JsonRpcRequestCancelled)
"""Refusals the user caused ("nothing to explain here"): answered with a message, not a failure."""


class ClientLogHandler(logging.Handler):
    _TYPES: ClassVar[dict[int, types.MessageType]] = {
        logging.ERROR: types.MessageType.Error,
        logging.WARNING: types.MessageType.Warning,
        logging.INFO: types.MessageType.Info,
    }

    def __init__(self, ls: LanguageServer) -> None:
        super().__init__()
        self._ls = ls
        self._emitting = False

    @property
    def connected(self) -> bool:
        return getattr(self._ls.protocol, "writer", None) is not None

    def emit(self, record: logging.LogRecord) -> None:
        # Sending can itself log: never recurse.
        if self._emitting or not self.connected:
            return
        self._emitting = True
        try:
            kind = self._TYPES.get(record.levelno, types.MessageType.Log)
            self._ls.window_log_message(
                types.LogMessageParams(type=kind, message=self.format(record))
            )
        except Exception:
            pass
        finally:
            self._emitting = False


def quiet_refusals(record: logging.LogRecord) -> bool:
    """The protocol layer logs every refused request with a traceback; an expected refusal
    becomes one informational line."""
    exc = record.exc_info[1] if record.exc_info else None
    if isinstance(exc, EXPECTED):
        record.msg = f"{record.getMessage()}: refused: {exc}"
        record.args = ()
        record.exc_info = None
        record.exc_text = None
        record.levelno = logging.INFO
        record.levelname = "INFO"
    return True


def setup_logging(ls: LanguageServer, level: str) -> None:
    client = ClientLogHandler(ls)
    client.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    stderr = logging.StreamHandler()
    stderr.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    # Handler filters, since a logger's own filters miss the records of its children.
    stderr.addFilter(quiet_refusals)
    stderr.addFilter(lambda record: record.levelno >= logging.ERROR or not client.connected)
    client.addFilter(quiet_refusals)
    root = logging.getLogger()
    root.addHandler(stderr)
    root.setLevel(logging.WARNING)
    package = logging.getLogger("subagent_lsp")
    package.setLevel(level)
    package.addHandler(client)
    logging.getLogger("pygls").addHandler(client)
