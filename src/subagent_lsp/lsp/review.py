"""A review's findings as diagnostics: on the lines they are about, named by the reviewing agent,
kept until the code there changes or the same agent reviews again, each with a quick fix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lsprotocol import types

from .. import ids
from ..findings import Finding
from ..positions import LineIndex
from .session import Session

_SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "information": types.DiagnosticSeverity.Information,
    "hint": types.DiagnosticSeverity.Hint,
}


@dataclass(frozen=True)
class Shown:
    reviewer: str
    finding: Finding
    lines: str
    """The text of the finding's lines when it was made: when it changes, the finding goes."""
    diagnostic: types.Diagnostic


def _lines(text: str, first: int, last: int) -> str | None:
    index = LineIndex(text)
    if last >= index.line_count:
        return None
    return text[index.line_bounds(first)[0] : index.line_bounds(last)[1]]


class ReviewDiagnostics:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._by_uri: dict[str, list[Shown]] = {}
        self._facts: dict[str, list[types.Diagnostic]] = {}
        """Hints from the code's facts (see fact_diagnostics.py), published with the reviews."""

    def set_facts(self, uri: str, diagnostics: list[types.Diagnostic]) -> None:
        # The first computation is always published, empty or not: the client then knows the
        # document was looked at. After that, only a change is.
        if uri in self._facts and not diagnostics and not self._facts[uri]:
            return
        self._facts[uri] = diagnostics
        self._send(uri)

    def publish(self, reviewer: str, findings: list[tuple[str, Finding, str]]) -> int:
        """Show one review's findings, given as (uri, finding, text of the file it read); the
        reviewer's earlier findings go. Returns how many are shown."""
        touched = set(self._by_uri)
        for uri in touched:
            self._by_uri[uri] = [s for s in self._by_uri[uri] if s.reviewer != reviewer]
        for uri, finding, text in findings:
            lines = _lines(text, finding.start_line, finding.end_line)
            if lines is None:
                continue
            index = LineIndex(text)
            start = index.position(index.line_bounds(finding.start_line)[0], self._session.encoding)
            end = index.position(index.line_bounds(finding.end_line)[1], self._session.encoding)
            message = finding.message + (f" Fix: {finding.fix}" if finding.fix else "")
            diagnostic = types.Diagnostic(
                range=types.Range(start=start, end=end),
                message=message,
                severity=_SEVERITY[finding.severity],
                source=reviewer,
                data={"reviewer": reviewer, "fix": finding.fix, "message": finding.message},
            )
            self._by_uri.setdefault(uri, []).append(Shown(reviewer, finding, lines, diagnostic))
            touched.add(uri)
        for uri in touched:
            self._send(uri)
        return sum(len(shown) for shown in self._by_uri.values())

    def changed(self, uri: str, text: str) -> None:
        """The document's text moved on: findings whose lines changed go."""
        shown = self._by_uri.get(uri)
        if not shown:
            return
        kept = [
            s for s in shown if _lines(text, s.finding.start_line, s.finding.end_line) == s.lines
        ]
        if len(kept) != len(shown):
            self._by_uri[uri] = kept
            self._send(uri)

    def _send(self, uri: str) -> None:
        diagnostics = [shown.diagnostic for shown in self._by_uri.get(uri, [])]
        diagnostics += self._facts.get(uri, [])
        self._session.server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics)
        )

    def fixes(
        self, uri: str, diagnostics: list[types.Diagnostic], fixer: str | None
    ) -> list[types.CodeAction]:
        """ "Fix with AGENT" for each of our findings the client sends back with a request."""
        if fixer is None:
            return []
        shown_here = self._by_uri.get(uri, [])
        facts = self._facts.get(uri, [])
        actions = []
        for diagnostic in diagnostics:
            shown = next((s for s in shown_here if _same(s.diagnostic, diagnostic)), None)
            if shown is not None:
                instruction = shown.finding.message + (
                    f"\n\nSuggested fix: {shown.finding.fix}" if shown.finding.fix else ""
                )
            elif any(_same(fact, diagnostic) for fact in facts):
                instruction = f"Fix this: {diagnostic.message}"
            else:
                continue
            argument: dict[str, Any] = {
                "uri": uri,
                "range": {
                    "start": {"line": diagnostic.range.start.line, "character": 0},
                    "end": {
                        "line": diagnostic.range.end.line,
                        "character": diagnostic.range.end.character,
                    },
                },
                "agent": fixer,
                "action": "ask",
                "instruction": instruction,
            }
            title = f"Fix with {fixer}"
            actions.append(
                types.CodeAction(
                    title=title,
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic],
                    command=types.Command(
                        title=title, command=ids.RUN_ACTION, arguments=[argument]
                    ),
                )
            )
        return actions


def _same(ours: types.Diagnostic, theirs: types.Diagnostic) -> bool:
    """The client sends our diagnostics back as it got them: same range, same message."""
    return ours.range == theirs.range and ours.message == theirs.message
