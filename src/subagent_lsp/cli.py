"""Command line: serve LSP (stdio or TCP), list agents, and run an action headless."""

from __future__ import annotations

# Only light imports up here: serving LSP answers `initialize` before the rest is loaded.
import argparse
import importlib
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__

if TYPE_CHECKING:
    from .overlay import FileChange
    from .pipeline import ActionJob, WorkspaceView
    from .settings import Settings
    from .syntax.source import SourceFile

_LOCATION = re.compile(r"^(?P<path>.+?):(?P<first>\d+)(?:-(?P<last>\d+))?$")

# What a shell reports for a process that SIGPIPE ended (128 + 13): `set -o pipefail` scripts
# see a cut-off `subagent-lsp context ... | head` as they see `cat file | head`.
CLOSED_PIPE = 141

_ROOT_HELP = "workspace folder (default: the file's git repository, else its project root)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="subagent-lsp",
        description="Claude Code agents as code actions for TypeScript backends. "
        "Without a command, serves the Language Server Protocol on stdio.",
    )
    parser.add_argument("--version", action="version", version=f"subagent-lsp {__version__}")
    parser.add_argument("--tcp", metavar="HOST:PORT", help="serve LSP over TCP instead of stdio")
    parser.add_argument("--stdio", action="store_true", help="serve LSP on stdio (the default)")
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="how much to log (to stderr and the editor's log)",
    )
    sub = parser.add_subparsers(dest="command")

    agents = sub.add_parser("agents", help="list the agents found and any broken agent files")
    agents.add_argument("dir", nargs="?", default=".", help="workspace folder (default: .)")

    ask = sub.add_parser("ask", help="run an agent on lines of a file and print the diff")
    ask.add_argument("location", help="PATH:LINE or PATH:FIRST-LAST (1-based)")
    ask.add_argument("instruction", help="what the agent should do")
    ask.add_argument("--agent", help="agent name (default: the workspace's default agent)")
    ask.add_argument("--apply", action="store_true", help="write the changes instead of printing")
    ask.add_argument("--root", help=_ROOT_HELP)

    context = sub.add_parser("context", help="print the context that would be sent, and why")
    context.add_argument("location", help="PATH:LINE or PATH:FIRST-LAST (1-based)")
    context.add_argument("--json", action="store_true", help="machine-readable output")
    context.add_argument("--budget", type=int, help="token budget (default: the setting)")
    context.add_argument("--root", help=_ROOT_HELP)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command is None:
        return _serve(args.tcp, args.log_level)
    try:
        status = _command(args)
        # Flushed here, not at exit, so that a reader gone away is noticed inside this `try`.
        sys.stdout.flush()
    except BrokenPipeError:
        # As Python's signal documentation advises: whatever is still buffered goes nowhere,
        # instead of failing again, with a traceback, when the interpreter flushes at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return CLOSED_PIPE
    return status


def _command(args: argparse.Namespace) -> int:
    if args.command == "agents":
        return _agents(Path(args.dir))
    if args.command == "context":
        return _context(args)
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    return _ask(args)


_SWITCH_INTERVAL = 0.001
"""Seconds a thread runs before the interpreter is handed to another that waits for it."""


def _serve(tcp: str | None, level: str) -> int:
    # Hints, lookups and the reference index run in worker threads; with the default 5 ms a
    # request could wait that long for the interpreter behind one (karakeep code-action p95
    # 6.2-7.0 ms with 5 ms, 4.5-4.7 ms with 1 ms: benchmarks/real_repos.py, README).
    sys.setswitchinterval(_SWITCH_INTERVAL)
    if tcp:
        from .server import server, setup_logging

        setup_logging(server, level)
        host, _, port = tcp.rpartition(":")
        if not port.isdigit():
            print("--tcp takes HOST:PORT, for example 127.0.0.1:2087", file=sys.stderr)
            return 2
        server.start_tcp(host or "127.0.0.1", int(port))
        return 0
    from .early import answer_while_loading

    early = answer_while_loading(lambda: importlib.import_module(".server", __package__))
    from .lsp.stdio import serve_stdio

    server = early.loaded.server
    early.loaded.setup_logging(server, level)
    if early.answered is not None:
        server.protocol.answered_early(early.answered)
    return serve_stdio(server, early.already_read)


def _agents(directory: Path) -> int:
    from .agents import discover
    from .settings import Settings

    root = directory.resolve()
    found = discover([root], Settings().user_dir())
    for agent in found.ordered():
        print(f"{agent.name}\t{agent.model}\t{agent.source}\t{agent.path}")
        print(f"    {agent.summary}")
    for error in found.errors:
        print(f"broken: {error.path}:{error.line + 1}: {error.message}", file=sys.stderr)
    return 1 if found.errors and not found.agents else 0


class _UsageError(Exception):
    pass


def _selection(location: str) -> tuple[Path, SourceFile, int, int]:
    """PATH:LINE (the statement there) or PATH:FIRST-LAST (whole lines), as offsets."""
    from .syntax.source import SourceFile, language_for

    match = _LOCATION.match(location)
    if match is None:
        raise _UsageError("location must be PATH:LINE or PATH:FIRST-LAST")
    path = Path(match["path"]).resolve()
    language = language_for(str(path))
    if language is None or not path.is_file():
        raise _UsageError(f"{path} is not a TypeScript file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise _UsageError(f"{path} is not UTF-8 text, the only encoding read here") from None
    except OSError as exc:
        raise _UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    source = SourceFile(text, language)
    lines = text.splitlines(keepends=True)
    first = int(match["first"])
    last = int(match["last"] or first)
    if not 1 <= first <= last <= len(lines):
        raise _UsageError(f"lines {first}-{last} are outside {path.name} ({len(lines)} lines)")
    if match["last"]:
        start = source.offset_at(first - 1, 0)
        end = source.offset_at(last - 1, len(lines[last - 1].rstrip("\r\n")))
    else:
        # One line means "the statement there": a cursor on its first non-blank character.
        indent = len(lines[first - 1]) - len(lines[first - 1].lstrip())
        start = end = source.offset_at(first - 1, indent)
    return path, source, start, end


def _workspace(root: Path, settings: Settings) -> WorkspaceView:
    from .context.index import ProjectIndex
    from .context.references import ReferenceIndex
    from .exclusions import Exclusions
    from .pipeline import WorkspaceView

    index = ProjectIndex((root,))
    exclusions = Exclusions((root,), settings.exclude)
    # One question, nothing else to do meanwhile: the reference index is built before it.
    references = ReferenceIndex((root,), index.resolver, exclusions)
    references.build()
    return WorkspaceView((root,), {}, exclusions, index, references)


def _root(path: Path, given: str | None) -> Path:
    """The workspace folder: the repository, as an editor opened on it sees it (sibling packages
    of a monorepo included), else the file's project."""
    from .project import find_root, repository_root

    if given:
        return Path(given).resolve()
    return repository_root(path) or find_root(path)


def _agent_roots(path: Path, root: Path) -> tuple[Path, ...]:
    """Where `ask` looks for agents: the file's own project inside the workspace first (its agents
    win), then the workspace, so agents kept next to a monorepo's package are still found."""
    from .project import find_root

    project = find_root(path)
    if project != root and project.is_relative_to(root):
        return (project, root)
    return (root,)


def _shown(path: Path, root: Path) -> str:
    """How the command line names a file, so that `git apply` accepts a diff where it ran: inside
    a git repository git reads patch paths from the repository's top (and skips, silently, any
    outside the current folder), elsewhere from the current folder. Else from the workspace."""
    from .project import display_path, repository_root, root_relative

    here = Path.cwd().resolve()
    top = repository_root(here)
    base = top if top is not None and path.is_relative_to(top) else here
    return root_relative(path, (base,)) or display_path(path, (root,))


def _context(args: argparse.Namespace) -> int:
    """Print exactly the context that would be sent for a selection, and why."""
    import dataclasses

    from .context.items import cost_of
    from .pipeline import context_for
    from .project import root_relative
    from .settings import Settings

    try:
        path, source, start, end = _selection(args.location)
    except _UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    settings = Settings()
    root = _root(path, args.root)
    view = _workspace(root, settings)
    if args.budget:
        settings = dataclasses.replace(settings, context_tokens=args.budget)
    budget = settings.context_tokens
    context = context_for(path, source, start, end, settings, view)
    if args.json:
        # Its paths are the model's, relative to the workspace root.
        output = {"root": root.as_posix(), **context.to_json(), "text": context.render()}
        print(json.dumps(output, indent=2))
        return 0
    where = root_relative(root, (Path.cwd().resolve(),)) or root.as_posix()
    print(f"context: {context.used_tokens} of {budget} tokens, workspace {where}")
    for item, form in context.items:
        tokens = cost_of(item, form)
        name = f" {item.symbol}" if item.symbol and item.kind != "selection" else ""
        # Project facts without a package.json are labelled, not located.
        file = root / item.path
        shown = _shown(file, root) if file.exists() else item.path
        print(
            f"  {form:8} {tokens:6}  p{item.priority} {item.kind:10} {shown}{name}: {item.reason}"
        )
    # Below, exactly what is sent: its paths are the model's, relative to the workspace.
    print()
    print(context.render())
    return 0


def _ask(args: argparse.Namespace) -> int:
    """Read the selection and the agents here, then run the action in an event loop."""
    import asyncio

    from .agents import discover
    from .pipeline import ActionJob
    from .settings import Settings

    try:
        path, source, start, end = _selection(args.location)
    except _UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    root = _root(path, args.root)
    settings = Settings()
    agent_set = discover(_agent_roots(path, root), settings.user_dir())
    agent = agent_set.get(args.agent) if args.agent else agent_set.default()
    if agent is None:
        known = ", ".join(a.name for a in agent_set.ordered())
        print(f"no agent named {args.agent!r} (found: {known})", file=sys.stderr)
        return 2
    view = _workspace(root, settings)
    job = ActionJob(path, source, None, start, end, agent, "ask", args.instruction)
    return asyncio.run(_run_ask(job, settings, view, root, apply=args.apply))


async def _run_ask(
    job: ActionJob, settings: Settings, view: WorkspaceView, root: Path, *, apply: bool
) -> int:
    import asyncio
    import difflib

    from .model.errors import NoApiKey
    from .pipeline import ActionFailed, prepare, run_action
    from .prompt import render

    if not settings.resolved_api_key():
        print(render(await prepare(job, settings, view)))
        print(f"\n{NoApiKey()}", file=sys.stderr)
        return 3
    model = settings.model_for(job.agent.model, job.action_id)
    print(f"asking {job.agent.name} ({model})…", file=sys.stderr)
    try:
        result = await run_action(job, settings, view)
    except ActionFailed as exc:
        print(str(exc), file=sys.stderr)
        return 1
    if apply:
        return await asyncio.to_thread(_write_changes, result.changes, root)
    for change in result.changes:
        name = _shown(change.path, root)
        old = (change.original or "").splitlines(keepends=True)
        new = change.new_text.splitlines(keepends=True)
        sys.stdout.writelines(
            difflib.unified_diff(
                old, new, "/dev/null" if change.original is None else f"a/{name}", f"b/{name}"
            )
        )
    if result.summary:
        print(f"\n{result.summary}", file=sys.stderr)
    return 0


def _write_changes(changes: Sequence[FileChange], root: Path) -> int:
    """Write every change, or none if any file moved on since the agent read it."""
    for change in changes:
        current = change.path.read_text(encoding="utf-8") if change.path.exists() else None
        if current != change.original:
            name = _shown(change.path, root)
            print(f"{name} changed while the agent worked; nothing was written", file=sys.stderr)
            return 1
    for change in changes:
        change.path.parent.mkdir(parents=True, exist_ok=True)
        change.path.write_text(change.new_text, encoding="utf-8")
        print(f"wrote {_shown(change.path, root)}", file=sys.stderr)
    return 0
