"""Broken agent files as diagnostics on the files themselves."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from lsprotocol import types

from ..agents import AgentError


def agent_diagnostics(
    errors: Iterable[AgentError], uri_for: Callable[[Path], str]
) -> dict[str, list[types.Diagnostic]]:
    """Diagnostics by the uri the client knows each agent file by."""
    by_uri: dict[str, list[types.Diagnostic]] = {}
    for error in errors:
        line = max(error.line, 0)
        by_uri.setdefault(uri_for(error.path), []).append(
            types.Diagnostic(
                range=types.Range(
                    start=types.Position(line=line, character=0),
                    end=types.Position(line=line + 1, character=0),
                ),
                message=f"This agent is not loaded: {error.message}",
                severity=types.DiagnosticSeverity.Error,
                source="subagent-lsp",
            )
        )
    return by_uri
