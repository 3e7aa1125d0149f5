"""Context recall: does the context sent for a selection hold what a senior engineer would read?

Not part of the tests (it needs checkouts of other people's code). Run:

    .venv/bin/python benchmarks/context_recall.py --repo NAME=PATH ... [options]

`benchmarks/context_recall.json` (the labels) lists selections in public TypeScript backends at
pinned commits and, for each, the items an engineer needs before acting on it, each with its
kind (definition, registration, guard, caller, query, package, migration, conventions, ...)
and why. The labels were written from the code before anything was measured; code is named by
path, symbol and line range, never copied.

For each selection this builds what the server sends for a code action there, with the default
settings and budget: `subagent_lsp.pipeline.prepare` (the context of `context_for`, the function
`subagent-lsp context` prints, plus the project conventions in the system prompt), in process,
with the repository root as the only workspace folder and one project index per repository.
Then each needed item is matched against what was sent:

- a line range counts when at least 80% of its lines appear in the sent text: blank lines and
  lines without a letter or digit (`});`) are not counted; each line is compared with its
  whitespace collapsed, without the `> 12|` numbering of the selection, and SQL lines without a
  trailing `;` or drizzle-kit's `--> statement-breakpoint`; a line of 20 characters or more
  also counts when it appears inside a longer sent line (a statement in a summary). A
  TypeScript range must appear in an item of the same file; other files (SQL, Markdown, config)
  may appear anywhere in what is sent, since the server reports them as summaries and
  conventions.
- a symbol is its line range at the pin (the labels give both; the symbol must be on the first
  line of the range, or the label is reported as out of date);
- `facts` count when every string occurs in the sent text as a whole, not inside a longer name
  or path (for what the server reports as a summary, such as the drizzle-kit config and the
  migrations folder).

Recall of a selection is the share of its items found. Overall: micro (all items together) and
macro (the mean over selections), per repository and over all. Tokens: the context's own
estimate (`used_tokens`, what the budget bounds) and the conventions sent beside it.

Options: `--repo NAME=PATH` (one per repository of the labels; those not given are skipped);
`--git-dir NAME=DIR` a git directory holding the pinned commit, for a checkout that is not a
work tree (such as an exported snapshot): every file the labels name is compared with the pinned
commit's blob; `--allow-other-commit` measures a checkout whose commit differs from the pin
(otherwise it is refused); `--labels FILE`; `--only ID` (repeatable); `--json FILE`;
`--markdown FILE` (the report, also printed). A benchmark, not a test: it exits 0 whatever the
recall, and says whether the aim (recall at least 0.9) is met.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from subagent_lsp.agents import discover
from subagent_lsp.context.index import ProjectIndex
from subagent_lsp.context.items import Context, estimate_tokens
from subagent_lsp.context.references import ReferenceIndex
from subagent_lsp.exclusions import Exclusions
from subagent_lsp.pipeline import ActionJob, WorkspaceView, context_for, prepare
from subagent_lsp.settings import Settings
from subagent_lsp.syntax.source import SourceFile, language_for

LABELS = Path(__file__).with_name("context_recall.json")
AIM = 0.9
LINE_SHARE = 0.8
_CONTAINED = 20
"""A sent line may hold a needed line of at least this many characters (a statement in a list)."""

GROUPS = {
    "registration": "registration sites and guards",
    "guard": "registration sites and guards",
    "caller": "callers",
    "usage": "usages (where a schema validates, how a hook is used)",
    "query": "queries of a table",
    "package": "workspace packages",
    "conventions": "conventions",
    "migration": "migrations and drizzle-kit config",
    "definition": "other: definitions reached forward",
    "indirect": "other: through decorators or a DI container",
    "related": "other: related code",
}

_NUMBERED = re.compile(r"^[> ]?\s*\d+\| ?")
_WORDY = re.compile(r"[A-Za-z0-9]")


@dataclass(frozen=True)
class Need:
    kind: str
    file: str
    why: str
    symbol: str | None = None
    lines: tuple[int, int] | None = None
    facts: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        where = f":{self.lines[0]}-{self.lines[1]}" if self.lines else ""
        name = f" `{self.symbol}`" if self.symbol else ""
        return f"{self.file}{where}{name}"


@dataclass(frozen=True)
class Selection:
    id: str
    repo: str
    file: str
    lines: tuple[int, int]
    kind: str
    intent: str
    needs: tuple[Need, ...]
    symbol: str | None = None


@dataclass(frozen=True)
class Pin:
    repository: str
    commit: str


@dataclass
class Sent:
    """What was sent for one selection, ready for matching."""

    by_file: dict[str, list[str]] = field(default_factory=dict)
    """Normalised lines of each context item, by the item's file relative to the root."""
    anywhere: list[str] = field(default_factory=list)
    """Normalised lines of everything sent: the context and the conventions."""
    text: str = ""


@dataclass
class Match:
    need: Need
    found: bool
    share: float


@dataclass
class Result:
    selection: Selection
    matches: list[Match]
    context_tokens: int
    convention_tokens: int
    budget: int
    seconds: float

    @property
    def recall(self) -> float:
        return sum(m.found for m in self.matches) / len(self.matches) if self.matches else 1.0


# ---------------------------------------------------------------------------------------------
# The labels


def _range(text: str) -> tuple[int, int]:
    first, _, last = str(text).partition("-")
    return int(first), int(last or first)


def load_labels(path: Path) -> tuple[dict[str, Pin], list[Selection]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    pins = {
        name: Pin(entry["repository"], entry["commit"]) for name, entry in data["repos"].items()
    }
    selections = []
    for entry in data["selections"]:
        needs = tuple(
            Need(
                kind=need["kind"],
                file=need["file"],
                why=need["why"],
                symbol=need.get("symbol"),
                lines=_range(need["lines"]) if "lines" in need else None,
                facts=tuple(need.get("facts", ())),
            )
            for need in entry["needs"]
        )
        selections.append(
            Selection(
                id=entry["id"],
                repo=entry["repo"],
                file=entry["file"],
                lines=_range(entry["lines"]),
                kind=entry["kind"],
                intent=entry["intent"],
                needs=needs,
                symbol=entry.get("symbol"),
            )
        )
    return pins, selections


def label_problems(root: Path, selection: Selection) -> list[str]:
    """Labels that do not fit the checkout: a missing file, a range past its end, a symbol that
    is not on the first line of its range. Any of these means the labels or the pin are off."""
    problems = []
    targets: list[tuple[str, tuple[int, int] | None, str | None]] = [
        (selection.file, selection.lines, selection.symbol)
    ]
    targets += [(n.file, n.lines, n.symbol) for n in selection.needs if n.lines is not None]
    for file, lines, symbol in targets:
        path = root / file
        if not path.is_file():
            problems.append(f"{file}: no such file")
            continue
        if lines is None:
            continue
        text = path.read_text(encoding="utf-8", errors="replace").splitlines()
        first, last = lines
        if not 1 <= first <= last <= len(text):
            problems.append(f"{file}:{first}-{last}: outside the file ({len(text)} lines)")
        elif symbol is not None and symbol not in text[first - 1]:
            problems.append(f"{file}:{first}: `{symbol}` is not on the range's first line")
    return problems


# ---------------------------------------------------------------------------------------------
# The pin


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _blob_id(path: Path) -> str:
    """The git blob id of a file as it is on disk (a symbolic link: of its target's name)."""
    data = os.readlink(path).encode() if path.is_symlink() else path.read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def check_pin(root: Path, pin: Pin, git_dir: Path | None, files: Iterable[str]) -> tuple[str, str]:
    """("ok" | "differs" | "unverified", a sentence). A work tree is checked by its HEAD; an
    exported snapshot by comparing the files the labels name with the pinned commit's blobs."""
    top = _git("-C", str(root), "rev-parse", "--show-toplevel")
    if top is not None and Path(top).resolve() == root.resolve():
        head = _git("-C", str(root), "rev-parse", "HEAD") or "?"
        if head != pin.commit:
            return "differs", f"HEAD is {head}, the labels are for {pin.commit}"
        dirty = _git("-C", str(root), "status", "--porcelain", "--untracked-files=no")
        if dirty:
            return "differs", f"HEAD is the pinned {pin.commit[:7]} but files are modified"
        return "ok", f"work tree at the pinned {pin.commit[:7]}"
    if git_dir is None:
        return "unverified", "not a git work tree and no --git-dir given: commit not verified"
    if _git("--git-dir", str(git_dir), "cat-file", "-e", f"{pin.commit}^{{commit}}") is None:
        return "differs", f"{git_dir} does not hold the pinned commit {pin.commit}"
    wanted = sorted(set(files))
    listing = (
        _git("--literal-pathspecs", "--git-dir", str(git_dir), "ls-tree", pin.commit, "--", *wanted)
        or ""
    )
    blobs = {}
    for line in listing.splitlines():
        meta, _, name = line.partition("\t")
        blobs[name] = meta.split()[2]
    changed = [f for f in wanted if f not in blobs or _blob_id(root / f) != blobs[f]]
    if changed:
        return "differs", f"{len(changed)} labelled files differ from the pin: {changed[:3]}"
    return "ok", f"{len(wanted)} labelled files match the pinned {pin.commit[:7]} ({git_dir})"


# ---------------------------------------------------------------------------------------------
# Matching


def normalise(line: str, sql: bool = False) -> str:
    line = _NUMBERED.sub("", line, count=1)
    if sql:
        line = line.split("-->", 1)[0].rstrip().rstrip(";")
    return " ".join(line.split())


def _lines_of(text: str) -> list[str]:
    return [normalise(line) for line in text.splitlines()]


def sent_of(root: Path, context: Context, others: Sequence[str]) -> Sent:
    """The context's included items by file, and everything sent (those items and ``others``,
    the rest of the request) as lines."""
    sent = Sent()
    texts = []
    for item, text in context.included():
        texts.append(text)
        file = (root / item.path).resolve()
        key = (
            file.relative_to(root.resolve()).as_posix() if file.is_relative_to(root) else item.path
        )
        sent.by_file.setdefault(key, []).extend(_lines_of(text))
    texts += list(others)
    sent.text = "\n".join(texts)
    sent.anywhere = [normalise(line, sql=True) for line in sent.text.splitlines()]
    sent.anywhere += _lines_of(sent.text)
    return sent


def _appears(line: str, pool: set[str], long_pool: Sequence[str]) -> bool:
    if line in pool:
        return True
    return len(line) >= _CONTAINED and any(line in other for other in long_pool)


def _has_fact(text: str, fact: str) -> bool:
    """``fact`` occurs as a whole: not as part of a longer name or path (a migrations folder
    `db/drizzle` is not named by `db/drizzle.config.ts`)."""
    edge = r"[\w./-]"
    return re.search(rf"(?<!{edge}){re.escape(fact)}(?!{edge})", text) is not None


def match(root: Path, need: Need, sent: Sent) -> Match:
    if need.facts:
        found = sum(_has_fact(sent.text, fact) for fact in need.facts)
        return Match(need, found == len(need.facts), found / len(need.facts))
    assert need.lines is not None
    sql = need.file.endswith(".sql")
    text = (root / need.file).read_text(encoding="utf-8", errors="replace").splitlines()
    first, last = need.lines
    wanted = [normalise(line, sql) for line in text[first - 1 : last]]
    counted = [line for line in wanted if _WORDY.search(line)] or [w for w in wanted if w]
    if not counted:
        return Match(need, True, 1.0)
    typescript = language_for(need.file) is not None
    lines = sent.by_file.get(need.file, []) if typescript else sent.anywhere
    pool = set(lines)
    long_pool = [line for line in pool if len(line) >= _CONTAINED]
    share = sum(_appears(line, pool, long_pool) for line in counted) / len(counted)
    return Match(need, share >= LINE_SHARE, share)


# ---------------------------------------------------------------------------------------------
# Measuring


def offsets(source: SourceFile, first: int, last: int) -> tuple[int, int]:
    """Whole lines ``first..last`` (1-based), as `subagent-lsp context PATH:FIRST-LAST` selects."""
    lines = source.text.splitlines()
    return source.offset_at(first - 1, 0), source.offset_at(last - 1, len(lines[last - 1]))


def workspace(root: Path, settings: Settings) -> WorkspaceView:
    """The view the server has of a workspace with one folder and no open document, once its
    reference index has been built (the server builds it in the background after start-up)."""
    index = ProjectIndex((root,))
    exclusions = Exclusions((root,), settings.exclude)
    references = ReferenceIndex((root,), index.resolver, exclusions)
    references.build()
    return WorkspaceView((root,), {}, exclusions, index, references)


def _conventions_sent(system: Sequence[Mapping[str, Any]], prompt: str) -> list[str]:
    """The system blocks besides the agent's prompt and the editor protocol (the last block)."""
    texts = [str(block.get("text", "")) for block in system[:-1]]
    return [text for text in texts if text != prompt]


def measure(root: Path, selection: Selection, settings: Settings, view: WorkspaceView) -> Result:
    path = (root / selection.file).resolve()
    text = path.read_text(encoding="utf-8")
    source = SourceFile(text, language_for(str(path)) or "typescript")
    start, end = offsets(source, *selection.lines)
    agent = discover((), None).default()
    job = ActionJob(path, source, None, start, end, agent, "benchmark", selection.intent)
    began = time.perf_counter()
    context = context_for(path, source, start, end, settings, view)
    request = asyncio.run(prepare(job, settings, view))
    seconds = time.perf_counter() - began
    conventions = _conventions_sent(request.system, agent.prompt)
    # The messages too, in case a later version sends some context outside `context.render()`.
    messages = [str(block.get("text", "")) for block in request.user]
    sent = sent_of(root, context, [*conventions, *messages])
    matches = [match(root, need, sent) for need in selection.needs]
    return Result(
        selection,
        matches,
        context.used_tokens,
        sum(estimate_tokens(text) for text in conventions),
        context.budget,
        seconds,
    )


# ---------------------------------------------------------------------------------------------
# Reporting


def _micro(results: Sequence[Result]) -> float:
    matches = [m for r in results for m in r.matches]
    return sum(m.found for m in matches) / len(matches) if matches else 0.0


def _macro(results: Sequence[Result]) -> float:
    return statistics.fmean(r.recall for r in results) if results else 0.0


def summary(results: Sequence[Result]) -> dict[str, Any]:
    by_repo: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        by_repo[r.selection.repo].append(r)

    def block(rs: Sequence[Result]) -> dict[str, Any]:
        tokens = [r.context_tokens for r in rs]
        return {
            "selections": len(rs),
            "items": sum(len(r.matches) for r in rs),
            "found": sum(m.found for r in rs for m in r.matches),
            "recall_micro": round(_micro(rs), 3),
            "recall_macro": round(_macro(rs), 3),
            "context_tokens_mean": round(statistics.fmean(tokens)) if tokens else 0,
            "context_tokens_max": max(tokens, default=0),
            "convention_tokens_mean": round(statistics.fmean(r.convention_tokens for r in rs))
            if rs
            else 0,
        }

    missed: Counter[str] = Counter()
    kinds: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in results:
        for m in r.matches:
            kinds[m.need.kind][1] += 1
            kinds[m.need.kind][0] += m.found
            if not m.found:
                missed[GROUPS.get(m.need.kind, m.need.kind)] += 1
    overall = block(results)
    return {
        "overall": overall,
        "aim": AIM,
        "aim_met": overall["recall_micro"] >= AIM and overall["recall_macro"] >= AIM,
        "repos": {name: block(rs) for name, rs in sorted(by_repo.items())},
        "by_kind": {kind: {"found": f, "items": n} for kind, (f, n) in sorted(kinds.items())},
        "missed_by_group": dict(missed.most_common()),
    }


def to_json(results: Sequence[Result], pins: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "pins": pins,
        "summary": summary(results),
        "selections": [
            {
                "id": r.selection.id,
                "repo": r.selection.repo,
                "location": f"{r.selection.file}:{r.selection.lines[0]}-{r.selection.lines[1]}",
                "kind": r.selection.kind,
                "intent": r.selection.intent,
                "recall": round(r.recall, 3),
                "context_tokens": r.context_tokens,
                "convention_tokens": r.convention_tokens,
                "budget": r.budget,
                "ms": round(r.seconds * 1000, 1),
                "items": [
                    {
                        "kind": m.need.kind,
                        "need": m.need.label,
                        "why": m.need.why,
                        "found": m.found,
                        "share": round(m.share, 2),
                    }
                    for m in r.matches
                ],
            }
            for r in results
        ],
    }


def markdown(results: Sequence[Result], pins: Mapping[str, Any]) -> str:
    s = summary(results)
    out = ["# Context recall", ""]
    out += ["| repository | pin | status |", "| --- | --- | --- |"]
    out += [f"| {n} | {p['pin']} | {p['status']}: {p['note']} |" for n, p in pins.items()]
    out += ["", "| selection | kind | recall | found | context tokens | conventions tokens |"]
    out += ["| --- | --- | ---: | ---: | ---: | ---: |"]
    for r in results:
        found = sum(m.found for m in r.matches)
        out.append(
            f"| {r.selection.id} | {r.selection.kind} | {r.recall:.2f} | "
            f"{found}/{len(r.matches)} | {r.context_tokens:,} | {r.convention_tokens:,} |"
        )
    out += ["", "| repository | selections | items | recall micro | recall macro | "]
    out[-1] += "context tokens mean / max | conventions tokens mean |"
    out += ["| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    rows = [*s["repos"].items(), ("**all**", s["overall"])]
    for name, b in rows:
        out.append(
            f"| {name} | {b['selections']} | {b['items']} | {b['recall_micro']:.2f} | "
            f"{b['recall_macro']:.2f} | {b['context_tokens_mean']:,} / "
            f"{b['context_tokens_max']:,} | {b['convention_tokens_mean']:,} |"
        )
    out += [
        "",
        "Found by kind of item: "
        + ", ".join(f"{kind} {v['found']}/{v['items']}" for kind, v in s["by_kind"].items()),
    ]
    out += [
        "",
        "Missed, by group: "
        + (", ".join(f"{group} {n}" for group, n in s["missed_by_group"].items()) or "none"),
    ]
    out += ["", "## Missed items", ""]
    for r in results:
        missed = [m for m in r.matches if not m.found]
        if not missed:
            continue
        out.append(f"- **{r.selection.id}** ({r.selection.file}:{r.selection.lines[0]}):")
        for m in missed:
            out.append(f"  - {m.need.kind}: {m.need.label} ({m.share:.0%} seen): {m.need.why}")
    verdict = "met" if s["aim_met"] else "NOT met"
    o = s["overall"]
    out += [
        "",
        f"Aim (recall at least {AIM} within the default budget): **{verdict}**: micro "
        f"{o['recall_micro']:.2f}, macro {o['recall_macro']:.2f} over {o['selections']} "
        f"selections and {o['items']} items.",
    ]
    return "\n".join(out)


def _pairs(values: Sequence[str], flag: str) -> dict[str, str]:
    out = {}
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep:
            raise SystemExit(f"{flag} takes NAME=VALUE, not {value!r}")
        out[name] = rest
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo", action="append", default=[], metavar="NAME=PATH")
    parser.add_argument("--git-dir", action="append", default=[], metavar="NAME=DIR")
    parser.add_argument("--allow-other-commit", action="store_true")
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--only", action="append", default=[], metavar="ID")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args(argv)

    pins, selections = load_labels(args.labels)
    roots = {name: Path(p).resolve() for name, p in _pairs(args.repo, "--repo").items()}
    git_dirs = {name: Path(p) for name, p in _pairs(args.git_dir, "--git-dir").items()}
    if args.only:
        selections = [s for s in selections if s.id in args.only]
    settings = Settings()
    report: dict[str, Any] = {}
    results: list[Result] = []
    for name, pin in pins.items():
        chosen = [s for s in selections if s.repo == name]
        if not chosen:
            continue
        root = roots.get(name)
        if root is None:
            print(f"{name}: skipped (no --repo {name}=PATH)", file=sys.stderr)
            continue
        files = {s.file for s in chosen} | {n.file for s in chosen for n in s.needs}
        status, note = check_pin(root, pin, git_dirs.get(name), files)
        report[name] = {"pin": f"{pin.repository}@{pin.commit[:7]}", "status": status, "note": note}
        print(f"{name}: {status}: {note}", file=sys.stderr)
        if status == "differs" and not args.allow_other_commit:
            print(f"{name}: refused (--allow-other-commit to measure it anyway)", file=sys.stderr)
            continue
        problems = [p for s in chosen for p in label_problems(root, s)]
        if problems:
            print(f"{name}: labels do not fit the checkout:", file=sys.stderr)
            for problem in problems:
                print(f"  {problem}", file=sys.stderr)
            continue
        view = workspace(root, settings)
        results += [measure(root, s, settings, view) for s in chosen]
    if not results:
        print("nothing measured", file=sys.stderr)
        return 0
    text = markdown(results, report)
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n", encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(to_json(results, report), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
