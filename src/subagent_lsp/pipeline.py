"""One action end to end, shared by the language server and the command line.

request -> context -> prompt -> model (tool loop over an overlay) -> file changes.
Nothing here writes to disk or talks LSP: callers turn the changes into a WorkspaceEdit or a diff.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from .actions import REVIEW
from .agents import Agent, workspace_agent_dirs
from .capabilities import Capabilities
from .context.conventions import called_conventions, conventions
from .context.conventions import render as render_conventions
from .context.gather import gather_context
from .context.index import ProjectIndex
from .context.items import Context
from .context.references import ReferenceIndex
from .context.symbols import Lookup
from .exclusions import Exclusions
from .findings import REPORT_TOOL_NAME, BadFinding, Finding, Findings, read_finding
from .model.client import ClientFactory, load_sdk, make_client
from .model.errors import ModelError, sentence_for
from .model.loop import ModelRequest, StreamProgress, Usage, run_tool_loop
from .model.tools import EDIT_COMMANDS, EDIT_TOOL_NAME, REFERENCES_TOOL_NAME, ToolResult
from .overlay import DocumentSnapshot, FileChange, Overlay, PathOutsideWorkspace
from .positions import LineIndex
from .project import display_path, home_first, repository_root
from .prompt import build_request
from .search import references, run_search_tool
from .settings import Settings
from .skills import load_skills
from .syntax.source import SourceFile

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkspaceView:
    """The workspace as the editor sees it: its folders and its open documents' unsaved text."""

    roots: tuple[Path, ...]
    documents: Mapping[Path, DocumentSnapshot]
    exclusions: Exclusions
    index: ProjectIndex
    """Parse trees and tsconfig files, kept across requests."""
    references: ReferenceIndex | None = None
    """Who uses what across the workspace, built in the background; None where nothing
    builds it."""


@dataclass(frozen=True)
class ActionJob:
    path: Path
    source: SourceFile
    version: int | None
    start: int
    end: int
    agent: Agent
    action_id: str
    instruction: str

    @property
    def capabilities(self) -> Capabilities:
        """The agent's, and read-only for a review whatever the agent could do."""
        able = self.agent.capabilities
        return replace(able, can_edit=False) if self.action_id == REVIEW.id else able


@dataclass(frozen=True)
class Reported:
    """A finding of a review, with the file it is about and that file's text as it was read."""

    path: Path
    finding: Finding
    text: str


@dataclass(frozen=True)
class ActionResult:
    changes: list[FileChange]
    summary: str
    usage: Usage
    tool_errors: list[str]
    findings: list[Reported] = field(default_factory=list)


class ActionFailed(Exception):
    """The action produced nothing applicable; ``str()`` is the sentence for the user."""


def context_for(
    path: Path,
    source: SourceFile,
    start: int,
    end: int,
    settings: Settings,
    workspace: WorkspaceView,
) -> Context:
    """The context for code in a file: blocking file reads, so call it in a worker thread."""
    _, context = gather_context(
        path,
        source,
        start,
        end,
        index=workspace.index,
        documents=workspace.documents,
        exclusions=workspace.exclusions,
        budget=settings.context_tokens,
        references=workspace.references,
    )
    return context


async def prepare(job: ActionJob, settings: Settings, workspace: WorkspaceView) -> ModelRequest:
    """Everything that is sent, built without calling the model (also the command line's dry run)."""
    context = await asyncio.to_thread(
        context_for, job.path, job.source, job.start, job.end, settings, workspace
    )
    home = home_first(workspace.roots, job.path)[:1]
    claude_dirs = [folder.parent for root in home for folder in workspace_agent_dirs(root)]
    skills = await asyncio.to_thread(
        load_skills, job.agent.skills, claude_dirs, settings.user_dir().parent
    )
    top = next((repository_root(root) or root for root in home), job.path.parent)
    found = await asyncio.to_thread(conventions, job.path, top, workspace.roots)
    found += await asyncio.to_thread(
        called_conventions, list(context.packages), found, workspace.roots
    )
    # A share of the budget of their own, so rules never crowd out the code.
    shown = display_path(job.path, home_first(workspace.roots, job.path)[:1])
    rules = render_conventions(found, settings.context_tokens // 4, shown, job.instruction)
    return build_request(
        agent=job.agent,
        model=settings.model_for(job.agent.model, job.action_id),
        instruction=job.instruction,
        display_path=shown,
        context=context,
        settings=settings,
        skills=skills,
        conventions=rules,
        capabilities=job.capabilities,
    )


async def run_action(
    job: ActionJob,
    settings: Settings,
    workspace: WorkspaceView,
    on_progress: Callable[[StreamProgress], None] | None = None,
    client_for: ClientFactory | None = None,
) -> ActionResult:
    """Ask the agent and return the changes it made to the overlay; raise ActionFailed otherwise."""
    request = await prepare(job, settings, workspace)
    documents = dict(workspace.documents)
    # The action works on the text it was asked about, even if the editor moves on meanwhile.
    documents[job.path] = DocumentSnapshot(job.source.text, job.version)
    roots = home_first(workspace.roots, job.path)
    overlay = Overlay(list(roots), documents, is_excluded=workspace.exclusions)

    able = job.capabilities

    findings = Findings()
    reported: list[Reported] = []

    def report(tool_input: Mapping[str, object]) -> ToolResult:
        try:
            finding = read_finding(tool_input)
            path = overlay.resolve(finding.path)
            text = overlay.text_of(path)
            if text is None:
                raise BadFinding(f"{finding.path} does not exist.")
            if finding.end_line >= LineIndex(text).line_count:
                raise BadFinding(f"{finding.path} has no line {finding.end_line + 1}.")
            answer = findings.add(finding)
        except (BadFinding, PathOutsideWorkspace) as exc:
            log.info("finding dropped: %s", exc)
            return ToolResult(str(exc), True)
        if answer.startswith("Reported"):
            reported.append(Reported(path, finding, text))
        return ToolResult(answer, False)

    def run_tool(name: str, tool_input: Mapping[str, object]) -> ToolResult:
        if name == REPORT_TOOL_NAME:
            return report(tool_input)
        if name == REFERENCES_TOOL_NAME:
            return _references(tool_input, workspace, roots, overlay)
        if name != EDIT_TOOL_NAME:
            return run_search_tool(name, tool_input, roots, workspace.exclusions, overlay.resolve)
        if not able.can_edit and tool_input.get("command") in EDIT_COMMANDS:
            return ToolResult(
                f"{job.agent.name} cannot change files in the editor (its tools or permission "
                "mode make it read-only): report what should change instead.",
                True,
            )
        return overlay.execute(tool_input)

    async def execute(name: str, tool_input: Mapping[str, object]) -> ToolResult:
        return await asyncio.to_thread(run_tool, name, tool_input)

    try:
        await load_sdk(settings)
        # A long-lived caller (the server) passes a pooled client; otherwise one is made and closed.
        client = (client_for or make_client)(settings)
        try:
            outcome = await run_tool_loop(
                client,
                request,
                execute,
                max_turns=min(
                    settings.max_tool_turns, job.agent.max_turns or settings.max_tool_turns
                ),
                on_progress=on_progress,
            )
        finally:
            if client_for is None:
                await client.close()
    except asyncio.CancelledError:
        raise
    except ModelError as exc:
        raise ActionFailed(str(exc)) from exc
    except Exception as exc:
        log.warning("model request failed: %r", exc)
        raise ActionFailed(sentence_for(exc, settings, request.model)) from exc

    changes = overlay.changes()
    log.info(
        "agent %s finished: %d tool calls, %d files changed, usage in=%d out=%d cache_read=%d "
        "cache_write=%d",
        job.agent.name,
        outcome.tool_calls,
        len(changes),
        outcome.usage.input_tokens,
        outcome.usage.output_tokens,
        outcome.usage.cache_read_input_tokens,
        outcome.usage.cache_creation_input_tokens,
    )
    if not changes and able.read_only:
        # A read-only agent answers in words: its review is the result.
        return ActionResult([], outcome.text, outcome.usage, outcome.tool_errors, reported)
    if not changes:
        reason = outcome.text or "the agent made no edits"
        if outcome.tool_errors:
            reason += f" (its last edit failed: {outcome.tool_errors[-1]})"
        raise ActionFailed(f"{job.agent.name} changed nothing: {_one_line(reason)}")
    return ActionResult(changes, outcome.text, outcome.usage, outcome.tool_errors)


def _references(
    tool_input: Mapping[str, object],
    workspace: WorkspaceView,
    roots: tuple[Path, ...],
    overlay: Overlay,
) -> ToolResult:
    symbol = tool_input.get("symbol")
    if not isinstance(symbol, str) or not symbol.strip():
        return ToolResult("`symbol` is required and must be a name.", True)
    given = tool_input.get("path")
    try:
        at = overlay.resolve(given) if isinstance(given, str) and given.strip() else None
    except (PathOutsideWorkspace, ValueError) as exc:
        return ToolResult(str(exc), True)
    lookup = Lookup(workspace.index, workspace.documents, workspace.exclusions)
    return references(workspace.references, lookup, roots, symbol.strip(), at)


def _one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
