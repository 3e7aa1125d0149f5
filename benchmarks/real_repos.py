"""subagent-lsp on real repositories: what it answers, what it misses, how fast, how big.

Not part of the tests (it needs checkouts of other people's code). Run:

    .venv/bin/python benchmarks/real_repos.py [options] [NAME=]PATH[:BACKEND[,BACKEND...]] ...

PATH is a checkout, and the workspace folder the server is given; BACKEND (default: PATH) are the
subfolders whose TypeScript files are checked: `api=/tmp/repos/x:apps/api,packages/db`.
Options: `--source NAME=OWNER/REPO@COMMIT` records where a checkout came from (otherwise read
from git when PATH is a work tree); `--max-files N` caps the files per repository (default: all);
`--points N` top-level statements asked per file (default 8); `--close` closes each file after
its requests (by default every file stays open, as after a long session); `--no-context` skips
the contexts; `--json FILE` (default real_repos.json) the full dump for later comparison, with
every site, every code-action answer and every finding; `--markdown FILE` the report, which is
also printed.

Per repository, two passes:

1. In this process, `real_sites.py` parses every TypeScript file of the backend (not
   node_modules, build output or .d.ts) and finds its sites with the project's own backend
   modules: route registrations, Drizzle query chains, table and Zod schema declarations, tRPC
   procedures, and the table and schema names queries, routes and procedures use (`table-ref`,
   `schema-ref`); and the framework-shaped sites those modules do not recognise (*missed*). The
   context is then built at every site, in process, with `subagent_lsp.pipeline.context_for`
   (what `subagent-lsp context FILE:LINE --json` runs), one project index per repository as
   the server keeps one.
2. The server runs as a subprocess over stdio (`wire.py`, VS Code's capabilities) with the
   repository root as its workspace folder, `hoverMode: static`, a dummy key and
   `ANTHROPIC_BASE_URL` on 127.0.0.1 where nothing listens: no request needs the model. Each
   file is opened; code actions are asked at the first N top-level statements, at every route,
   query and procedure, at the first statements of route handlers and procedure resolvers, and
   in functions a route registers by name; a hover is asked at every site. stderr is read after
   every request, so a traceback is tied to the request that caused it.

Columns of the first table:
- files, lines: the TypeScript files checked.
- sites: sites the backend modules recognise; missed: framework-shaped sites they do not.
- errors: error responses and timeouts; tracebacks: Python tracebacks on the server's stderr.
- empty hovers: a recognised site whose hover is null or of another kind (a table name that
  answers with the facts of the query around it).
- empty actions: no code action on a route, on a statement inside a route handler or on a
  query; no "Optimise this Drizzle query" on a query; no route action in a function a route
  registers by name (asked again for up to a few seconds: the server finds the registration
  in the background once its reference index is built).
- action, hover p50 / p95: round trip of textDocument/codeAction and textDocument/hover, ms.
- context p50 / p95 ms, context tokens p50 / p95: the context built at every site.
- package imports unresolved: imports of the repository's own workspace packages
  (`@acme/db/schema`) that the server's module resolution cannot follow to a file.
- peak RSS: the server's VmHWM from /proc at the end of the run, MB.
- time: wall-clock seconds for the repository, both passes.
The second table counts, per kind of site: recognised / of those, with a null or wrong hover /
missed. The findings list each category with examples at file:line; besides the categories
above, "missed site" (a missed site whose hover says nothing), "misjudged" (a hover that says
something wrong: a `headers.get("x")` call read as a route, `hooks: none` in a plugin that adds
hooks, a handler shown as the whole options object, a column judged unindexed that leads a
composite key) and "context error".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from subagent_lsp.context.index import ProjectIndex
from subagent_lsp.exclusions import Exclusions
from subagent_lsp.pipeline import WorkspaceView, context_for
from subagent_lsp.positions import LineIndex
from subagent_lsp.settings import Settings
from subagent_lsp.syntax import SourceFile, language_for

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from real_sites import ELSEWHERE, FileScan, Site, collect_files, scan_files  # noqa: E402
from wire import SERVER_COMMAND, RpcError, WireClient, code_action_params, server_env  # noqa: E402

# Nothing listens here: a request that reached for the model would fail at once, on this machine.
_NO_MODEL = "http://127.0.0.1:9"
_OPTIMISE = "Optimise this Drizzle query"
_REST = "Follow REST conventions"
# The hover's first line says what it is about (backend/hover_facts.py).
_HOVER_KINDS = (
    ("· Fastify route", "route"),
    ("· Hono route", "route"),
    ("**Drizzle query**", "query"),
    ("· Drizzle `", "table"),
    ("· Zod schema", "schema"),
)
_EXPECTED_HOVER = {
    "route": "route",
    "query": "query",
    "table": "table",
    "table-ref": "table",
    "schema": "schema",
    "schema-ref": "schema",
    "procedure": "any",
}
SITE_KINDS = tuple(_EXPECTED_HOVER)


@dataclass(frozen=True)
class Repo:
    name: str
    root: Path
    backends: tuple[Path, ...]
    source: str | None


@dataclass
class Finding:
    file: str
    line: int
    category: str
    kind: str
    detail: str


@dataclass
class RepoResult:
    repo: Repo
    files: int = 0
    lines: int = 0
    skipped: list[str] = field(default_factory=list)
    action_ms: list[float] = field(default_factory=list)
    hover_ms: list[float] = field(default_factory=list)
    context_ms: list[float] = field(default_factory=list)
    context_tokens: list[int] = field(default_factory=list)
    hint_ms: list[float] = field(default_factory=list)
    """didOpen to the file's first publishDiagnostics, for the files measured (--hint-files)."""
    findings: list[Finding] = field(default_factory=list)
    sites: list[dict[str, Any]] = field(default_factory=list)
    points: list[tuple[str, int, str, int]] = field(default_factory=list)
    """(file, line, where, number of actions offered) for every code-action request."""
    package_imports: int = 0
    unresolved: Counter[str] = field(default_factory=Counter)
    """Imports of the repository's own workspace packages the server cannot follow."""
    peak_rss_mb: float = float("nan")
    seconds: float = 0.0


# --- contexts, in process --------------------------------------------------------------------


def build_contexts(repo: Repo, scans: list[FileScan], result: RepoResult) -> None:
    """The context at every site, as an action asked there would send it."""
    settings = Settings()
    roots = (repo.root,)
    view = WorkspaceView(roots, {}, Exclusions(roots), ProjectIndex(roots))
    for scan in scans:
        language = language_for(str(scan.path))
        assert language is not None
        src = SourceFile(scan.text, language)
        for site in scan.sites:
            started = time.perf_counter()
            try:
                context = context_for(scan.path, src, site.offset, site.offset, settings, view)
            except Exception as exc:
                result.findings.append(
                    Finding(
                        _display(repo, scan.path),
                        site.line,
                        "context error",
                        site.kind,
                        f"{type(exc).__name__}: {exc} | {_last_frame(exc)}",
                    )
                )
                continue
            result.context_ms.append((time.perf_counter() - started) * 1000)
            result.context_tokens.append(context.used_tokens)


def _last_frame(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    return f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""


def _display(repo: Repo, path: Path) -> str:
    return path.relative_to(repo.root).as_posix()


# --- pass 2: the server over stdio -----------------------------------------------------------


class ServerRun:
    def __init__(
        self, repo: Repo, result: RepoResult, stderr: Path, timeout: float, tables: dict[str, str]
    ) -> None:
        self.repo, self.result, self.stderr_path, self.timeout = repo, result, stderr, timeout
        self.tables = tables
        self.client: WireClient | None = None
        self._stderr_seen = 0
        self.encoding = "utf-16"

    async def start(self, home: Path) -> None:
        with self.stderr_path.open("wb") as stderr:
            process = await asyncio.create_subprocess_exec(
                *SERVER_COMMAND,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
                env=server_env(home, _NO_MODEL),
                limit=2**24,
            )
        self.client = WireClient(process)
        answer = await self.client.initialize(self.repo.root, {"hoverMode": "static"})
        self.encoding = (answer.get("capabilities") or {}).get("positionEncoding") or "utf-16"

    def open(self, scan: FileScan) -> str:
        assert self.client is not None
        uri = scan.path.as_uri()
        language_id = "typescriptreact" if scan.language == "tsx" else "typescript"
        self.client.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": uri,
                    "languageId": language_id,
                    "version": 1,
                    "text": scan.text,
                }
            },
        )
        return uri

    async def ask(self, method: str, params: Any, where: tuple[str, int, str]) -> tuple[bool, Any]:
        """One request, timed; an error, a timeout or new stderr output becomes a finding."""
        assert self.client is not None
        started = time.perf_counter()
        ok, answer = True, None
        try:
            answer = await asyncio.wait_for(self.client.request(method, params), self.timeout)
        except (RpcError, TimeoutError) as exc:
            ok = False
            category = "timeout" if isinstance(exc, TimeoutError) else "error response"
            self._finding(where, category, f"{method}: {exc}")
        elapsed = (time.perf_counter() - started) * 1000
        (self.result.hover_ms if method == "textDocument/hover" else self.result.action_ms).append(
            elapsed
        )
        self._check_stderr(where, method)
        return ok, answer

    def _finding(self, where: tuple[str, int, str], category: str, detail: str) -> None:
        file, line, kind = where
        self.result.findings.append(Finding(file, line, category, kind, detail))

    def _check_stderr(self, where: tuple[str, int, str], method: str) -> None:
        size = self.stderr_path.stat().st_size
        if size <= self._stderr_seen:
            return
        with self.stderr_path.open("rb") as stderr:
            stderr.seek(self._stderr_seen)
            new = stderr.read().decode("utf-8", "replace")
        self._stderr_seen = size
        category = "traceback" if "Traceback (most recent call last)" in new else "server log"
        lines = [line for line in new.strip().splitlines() if line.strip()]
        summary = " | ".join(lines[:1] + lines[-2:]) if len(lines) > 3 else " | ".join(lines)
        self._finding(where, category, f"after {method}: {summary[:600]}")

    async def _route_actions_later(self, params: Any, titles: list[str]) -> bool:
        """Whether a function registered by name elsewhere gets the route actions: the server
        reads the registration in the background once the reference index is built, so the
        menu has them a moment after it is first asked (not timed)."""
        assert self.client is not None
        for _ in range(40):
            if any(_REST in t for t in titles):
                return True
            status = await self.client.request(
                "workspace/executeCommand", {"command": "subagent-lsp.status", "arguments": []}
            )
            await asyncio.sleep(0.05 if status.get("referenceIndex") == "ready" else 0.25)
            answer = await self.client.request("textDocument/codeAction", params)
            titles = [a.get("title", "") for a in answer or []]
        return False

    def position(self, lines: LineIndex, offset: int) -> dict[str, int]:
        pos = lines.position(offset, self.encoding)
        return {"line": pos.line, "character": pos.character}

    async def check_file(self, scan: FileScan, *, hints: bool = False) -> None:
        assert self.client is not None
        repo, result = self.repo, self.result
        file = _display(repo, scan.path)
        opened = time.perf_counter()
        uri = self.open(scan)
        if hints:
            # The hints a file gets after it opens, before anything else is asked of it.
            try:
                took = await self.client.notified(
                    "textDocument/publishDiagnostics", uri, opened, self.timeout
                )
                result.hint_ms.append(took * 1000)
            except TimeoutError:
                self._finding((file, 1, "file"), "timeout", "no hints published")
        lines = LineIndex(scan.text)
        for point in scan.points:
            params = code_action_params(uri, self.position(lines, point.offset))
            where = (file, point.line, point.where)
            ok, answer = await self.ask("textDocument/codeAction", params, where)
            titles = [a.get("title", "") for a in answer or []] if ok else []
            result.points.append((file, point.line, point.where, len(titles)))
            shown = ", ".join(t.split(": ", 1)[-1] for t in titles) or "nothing"
            if not ok or not point.expect:
                continue
            if not titles:
                self._finding(where, "empty actions", "no code action")
            elif point.where == "query" and not any(_OPTIMISE in t for t in titles):
                self._finding(where, "empty actions", f"no '{_OPTIMISE}' (offered: {shown})")
            elif point.where == ELSEWHERE and not await self._route_actions_later(params, titles):
                detail = f"no route action in a handler registered by name (offered: {shown})"
                self._finding(where, "empty actions", detail)
        for site in scan.sites:
            params = {
                "textDocument": {"uri": uri},
                "position": self.position(lines, site.offset),
            }
            where = (file, site.line, site.kind)
            ok, answer = await self.ask("textDocument/hover", params, where)
            markdown = ((answer or {}).get("contents") or {}).get("value", "") if ok else ""
            got = next((kind for mark, kind in _HOVER_KINDS if mark in markdown), None)
            if markdown and got is None:
                got = "other"
            wanted = _EXPECTED_HOVER[site.kind]
            right = got is not None and (wanted == "any" or got == wanted)
            result.sites.append(
                {
                    "file": file,
                    "line": site.line,
                    "kind": site.kind,
                    "recognised": site.recognised,
                    "expected": site.expect,
                    "hover": got,
                    "first_line": markdown.split("\n", 1)[0][:120],
                    "facts": [
                        line[:200]
                        for line in markdown.split("\n")
                        if line.startswith(("- tables", "- filters", "- order by", "- validation"))
                    ],
                    "note": site.note,
                }
            )
            if ok and site.expect and not right:
                category = "empty hover" if site.recognised else "missed site"
                answered = f"hover answered {got} facts" if got else "hover answered null"
                note = f" ({site.note})" if site.note else ""
                self._finding(where, category, f"{answered}; expected {wanted}{note}")
            if ok and got == "route":
                self._judge_route(where, site, markdown, scan)
            if ok and got == "query":
                self._judge_indexes(where, markdown)

    def _judge_route(
        self, where: tuple[str, int, str], site: Site, markdown: str, scan: FileScan
    ) -> None:
        """Route facts a backend engineer would read as wrong."""
        if site.note.startswith("suspect"):
            self._finding(where, "misjudged", f"read as a Fastify route: {site.note[9:]}")
            return
        hooks_none = "- hooks: none" in markdown
        # Hono's arguments between path and handler are middleware, shown as "runs first".
        by_reference = "options by reference" in site.note and "· Hono route" not in markdown
        if by_reference and ("no schema" in markdown or hooks_none):
            self._finding(where, "misjudged", f"{site.note}; hover says no schema / hooks: none")
        elif hooks_none and scan.addhook:
            self._finding(where, "misjudged", "hooks: none, but the file adds hooks with addHook")
        if "- handler: `{" in markdown:
            self._finding(where, "misjudged", "the handler shown is the whole options object")

    def _judge_indexes(self, where: tuple[str, int, str], markdown: str) -> None:
        """A filter column judged "no index" that a composite key or index of its table serves,
        given the other columns the query filters on (`a = ? and b = ?` with an index on (a, b))."""
        line = next((ln for ln in markdown.split("\n") if ln.startswith("- filters")), "")
        filtered = set(re.findall(r"`(\w+)\.(\w+)`", line))
        for table, column in re.findall(r"`(\w+)\.(\w+)` ✗ no index", line):
            text = self.tables.get(table, "")
            keys = re.findall(r"primaryKey\(\{[^}]*?columns:\s*\[([^\]]*)\]", text)
            keys += re.findall(r"(?:unique|index|uniqueIndex)\([^)]*\)\s*\.on\(([^)]*)\)", text)
            for key in keys:
                columns = [c.strip().rsplit(".", 1)[-1] for c in key.split(",") if c.strip()]
                before = columns[: columns.index(column)] if column in columns else None
                if before is not None and all((table, c) in filtered for c in before):
                    shown = ", ".join(columns)
                    detail = f"`{table}.{column}` judged ✗ no index; the key on ({shown}) serves it"
                    self._finding(where, "misjudged", detail)
                    break

    def peak_rss_mb(self) -> float:
        assert self.client is not None
        status = Path(f"/proc/{self.client.process.pid}/status").read_text()
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    async def stop(self) -> None:
        if self.client is not None:
            await self.client.stop()


async def check_repo(repo: Repo, args: argparse.Namespace) -> RepoResult:
    result = RepoResult(repo)
    started = time.perf_counter()
    files = collect_files(repo.backends)
    if args.max_files:
        files = files[: args.max_files]
    scanned = scan_files(repo.root, files, args.points)
    scans = scanned.scans
    result.files, result.lines, result.skipped = len(scans), scanned.lines, scanned.skipped
    result.package_imports, result.unresolved = scanned.package_imports, scanned.unresolved
    print(f"{repo.name}: {len(scans)} files, building contexts…", file=sys.stderr)
    if not args.no_context:
        build_contexts(repo, scans, result)
    with tempfile.TemporaryDirectory() as tmp:
        tables = {name: text for scan in scans for name, text in scan.tables.items()}
        run = ServerRun(repo, result, Path(tmp) / "stderr.log", args.timeout, tables)
        await run.start(Path(tmp))
        for index, scan in enumerate(scans, 1):
            await run.check_file(scan, hints=index <= args.hint_files)
            if args.close:
                assert run.client is not None
                run.client.notify(
                    "textDocument/didClose", {"textDocument": {"uri": scan.path.as_uri()}}
                )
            if index % 200 == 0:
                print(f"{repo.name}: {index}/{len(scans)} files", file=sys.stderr)
        result.peak_rss_mb = run.peak_rss_mb()
        await run.stop()
    result.seconds = time.perf_counter() - started
    return result


# --- report ----------------------------------------------------------------------------------


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)] if values else float("nan")


def p50(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summary(result: RepoResult) -> dict[str, Any]:
    by_category = Counter(f.category for f in result.findings)
    recognised = [s for s in result.sites if s["recognised"]]
    return {
        "files": result.files,
        "lines": result.lines,
        "sites": len(recognised),
        "missed": sum(1 for s in result.sites if not s["recognised"]),
        "errors": by_category["error response"] + by_category["timeout"],
        "tracebacks": by_category["traceback"],
        "context_errors": by_category["context error"],
        "empty_hovers": by_category["empty hover"],
        "empty_actions": by_category["empty actions"],
        "action_p50": p50(result.action_ms),
        "action_p95": p95(result.action_ms),
        "hover_p50": p50(result.hover_ms),
        "hover_p95": p95(result.hover_ms),
        "hint_p50": p50(result.hint_ms),
        "hint_p95": p95(result.hint_ms),
        "context_p50": p50(result.context_ms),
        "context_p95": p95(result.context_ms),
        "tokens_p50": p50([float(t) for t in result.context_tokens]),
        "tokens_p95": p95([float(t) for t in result.context_tokens]),
        "requests": len(result.action_ms) + len(result.hover_ms),
        "package_imports": result.package_imports,
        "package_imports_unresolved": sum(result.unresolved.values()),
        "peak_rss_mb": result.peak_rss_mb,
        "seconds": result.seconds,
    }


def by_kind(result: RepoResult) -> dict[str, tuple[int, int, int]]:
    """Kind -> (recognised, recognised with a null or wrong hover, missed)."""
    counts: dict[str, list[int]] = {kind: [0, 0, 0] for kind in SITE_KINDS}
    wrong = {(f.file, f.line, f.kind) for f in result.findings if f.category == "empty hover"}
    for site in result.sites:
        row = counts[site["kind"]]
        if site["recognised"]:
            row[0] += 1
            row[1] += (site["file"], site["line"], site["kind"]) in wrong
        else:
            row[2] += 1
    return {kind: (row[0], row[1], row[2]) for kind, row in counts.items()}


def markdown(results: list[RepoResult], examples: int) -> str:
    out = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; {datetime.now(UTC):%Y-%m-%d}.",
        "",
        "| repository | files | lines | sites | missed | errors | tracebacks | empty hovers "
        "| empty actions | action p50 / p95 ms | hover p50 / p95 ms | hints p50 / p95 ms "
        "| context p50 / p95 ms "
        "| context tokens p50 / p95 | package imports unresolved | peak RSS MB | time s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for result in results:
        s = summary(result)
        out.append(
            f"| {_short(result.repo)} | {s['files']:,} | {s['lines']:,} "
            f"| {s['sites']:,} | {s['missed']:,} | {s['errors']} | {s['tracebacks']} "
            f"| {s['empty_hovers']} | {s['empty_actions']} "
            f"| {s['action_p50']:.2f} / {s['action_p95']:.2f} "
            f"| {s['hover_p50']:.2f} / {s['hover_p95']:.2f} "
            f"| {s['hint_p50']:.0f} / {s['hint_p95']:.0f} "
            f"| {s['context_p50']:.1f} / {s['context_p95']:.1f} "
            f"| {s['tokens_p50']:,.0f} / {s['tokens_p95']:,.0f} "
            f"| {s['package_imports_unresolved']:,} of {s['package_imports']:,} "
            f"| {s['peak_rss_mb']:.0f} | {s['seconds']:.0f} |"
        )
    out += [
        "",
        "Sites by kind: recognised / of those with a null or wrong hover / missed.",
        "",
        "| repository | " + " | ".join(SITE_KINDS) + " |",
        "| --- |" + " ---: |" * len(SITE_KINDS),
    ]
    for result in results:
        counts = by_kind(result)
        cells = [f"{a} / {b} / {c}" for a, b, c in (counts[k] for k in SITE_KINDS)]
        out.append(f"| {result.repo.name} | " + " | ".join(cells) + " |")
    for result in results:
        out += ["", f"### {result.repo.name}: findings", ""]
        groups: dict[tuple[str, str], list[Finding]] = defaultdict(list)
        for finding in result.findings:
            groups[(finding.category, finding.kind)].append(finding)
        for (category, kind), found in sorted(groups.items()):
            out.append(f"- **{category}**, {kind}: {len(found)}")
            for finding in found[:examples]:
                out.append(f"  - `{finding.file}:{finding.line}` {finding.detail}")
        if result.unresolved:
            common = ", ".join(f"`{k}` ({n})" for k, n in result.unresolved.most_common(examples))
            out.append(f"- **unresolved package imports**: {common}")
        if result.skipped:
            out.append(f"- skipped (unreadable): {len(result.skipped)}")
    return "\n".join(out) + "\n"


def _short(repo: Repo) -> str:
    """`owner/name@abc1234`: the source with a short commit, or the name given."""
    if repo.source is None:
        return repo.name
    where, _, commit = repo.source.rpartition("@")
    return f"{where}@{commit[:7]}" if where else repo.source


def parse_repo(spec: str, sources: dict[str, str]) -> Repo:
    name, _, rest = spec.rpartition("=") if "=" in spec else ("", "", spec)
    path_text, _, backends_text = rest.partition(":")
    root = Path(path_text).resolve()
    name = name or root.name
    backends = tuple(root / b for b in backends_text.split(",") if b) or (root,)
    for backend in backends:
        if not backend.is_dir():
            sys.exit(f"{backend} is not a folder")
    return Repo(name, root, backends, sources.get(name) or _git_source(root))


def _git_source(root: Path) -> str | None:
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{root.name}@{commit}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("repos", nargs="+", metavar="[NAME=]PATH[:BACKEND,...]")
    parser.add_argument("--source", action="append", default=[], metavar="NAME=OWNER/REPO@COMMIT")
    parser.add_argument("--max-files", type=int, default=0, help="files per repository (0: all)")
    parser.add_argument("--points", type=int, default=8, help="top-level statements per file")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    parser.add_argument("--close", action="store_true", help="close each file after its requests")
    parser.add_argument(
        "--hint-files", type=int, default=30, help="files whose hints are timed after opening"
    )
    parser.add_argument("--no-context", action="store_true", help="skip building contexts")
    parser.add_argument("--examples", type=int, default=8, help="examples per finding group")
    parser.add_argument("--json", type=Path, default=Path("real_repos.json"))
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()
    sources = dict(s.split("=", 1) for s in args.source)
    repos = [parse_repo(spec, sources) for spec in args.repos]
    results = [asyncio.run(check_repo(repo, args)) for repo in repos]
    report = markdown(results, args.examples)
    if args.markdown:
        args.markdown.write_text(report, encoding="utf-8")
    dump = {
        "machine": {
            "arch": platform.machine(),
            "cores": os.cpu_count(),
            "python": platform.python_version(),
        },
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "repositories": [
            {
                "name": r.repo.name,
                "source": r.repo.source,
                "backends": [_display(r.repo, b) or "." for b in r.repo.backends],
                "summary": summary(r),
                "by_kind": by_kind(r),
                "findings": [asdict(f) for f in r.findings],
                "sites": r.sites,
                "points": r.points,
                "unresolved_imports": dict(r.unresolved.most_common()),
                "action_ms": [round(ms, 2) for ms in r.action_ms],
                "hover_ms": [round(ms, 2) for ms in r.hover_ms],
                "skipped": r.skipped,
            }
            for r in results
        ],
    }
    args.json.write_text(json.dumps(dump, indent=1), encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
