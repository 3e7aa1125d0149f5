"""The rules the team wrote down for exactly this: CLAUDE.md and its kin, as each tool reads them.

- `CLAUDE.md` (and `CLAUDE.local.md`) from the repository root down to the file's folder, with
  `@path` imports relative to the importing file, at most four hops, not inside code;
- `.claude/rules/**/*.md`, those whose `paths` globs match the file, or without `paths`;
- the nearest `AGENTS.md` to the file;
- `.cursor/rules/*.mdc`: `alwaysApply`, or `globs` matching the file; rules with only a
  `description` are listed by it;
- `.github/copilot-instructions.md`, and `.github/instructions/*.instructions.md` whose
  `applyTo` globs match.
Most specific first, within a budget of their own. Reads files: call it off the event loop.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pathspec import PathSpec

from ..project import display_path

log = logging.getLogger(__name__)

_MAX_FILE_CHARS = 100_000
"""Read up to here; what is sent is cut to the conventions' share of the budget (`render`)."""
_MAX_IMPORT_HOPS = 4
_FRONTMATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_IMPORT = re.compile(r"(?<![\w`])@((?:\.{1,2}/|~/|/)?[\w./-]+\.\w+)")
_CODE = re.compile(r"```.*?```|`[^`\n]*`", re.DOTALL)


@dataclass(frozen=True)
class Convention:
    source: str
    """Where it comes from, as shown: `CLAUDE.md`, `apps/api/AGENTS.md`, ..."""
    text: str
    called: bool = False
    """The rules of a package the code calls into rather than of the file's own folders: only
    their opening is sent, what the package asks of its callers."""


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8-sig")[:_MAX_FILE_CHARS]
    except (OSError, UnicodeDecodeError):
        return None


def _split(text: str) -> tuple[dict[str, Any], str]:
    match = _FRONTMATTER.match(text)
    if match is None:
        return {}, text
    try:
        data = yaml.safe_load(match[1]) if len(match[1]) < 10_000 else None
    except yaml.YAMLError:
        data = None
    return (data if isinstance(data, dict) else {}), text[match.end() :]


def _globs(value: object) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list):
        return [str(part).strip() for part in value if str(part).strip()]
    return []


def _matches(globs: list[str], relative: str) -> bool:
    return bool(globs) and PathSpec.from_lines("gitignore", globs).match_file(relative)


def _with_imports(path: Path, text: str, hops: int = 0, seen: frozenset[Path] = frozenset()) -> str:
    """A CLAUDE.md with its `@path` imports put in place (not those inside code)."""
    if hops >= _MAX_IMPORT_HOPS:
        return text
    prose = _CODE.sub(lambda m: " " * len(m[0]), text)
    out, last = [], 0
    for match in _IMPORT.finditer(prose):
        target = match[1]
        imported = (
            Path(target).expanduser() if target.startswith(("~/", "/")) else path.parent / target
        ).resolve()
        if imported in seen or imported == path:
            continue
        body = _read(imported)
        if body is None:
            continue
        out.append(text[last : match.start()])
        out.append(_with_imports(imported, body, hops + 1, seen | {path}))
        last = match.end()
    out.append(text[last:])
    return "".join(out)


def conventions(file: Path, top: Path, roots: tuple[Path, ...]) -> list[Convention]:
    """The conventions that apply to ``file``, most specific first; ``top`` is the folder the
    search starts from (the repository root, else the workspace folder)."""
    if top in file.parents:
        relative = file.relative_to(top).as_posix()
        above = file.relative_to(top).parts[:-1]
        folders = [top] + [top.joinpath(*above[:n]) for n in range(1, len(above) + 1)]
    else:
        relative, folders = file.name, [file.parent]
    found: list[Convention] = []

    def add(path: Path, text: str) -> None:
        if text.strip():
            found.append(Convention(display_path(path, roots), text.strip()))

    # Nearest last in this loop; reversed at the end, so the most specific comes first.
    for folder in folders:
        for name in ("CLAUDE.md", ".claude/CLAUDE.md", "CLAUDE.local.md"):
            path = folder / name
            text = _read(path)
            if text is not None:
                add(path, _with_imports(path.resolve(), text))
    for rule in sorted((top / ".claude" / "rules").glob("**/*.md")):
        meta, body = _split(_read(rule) or "")
        paths = _globs(meta.get("paths"))
        if not paths or _matches(paths, relative):
            add(rule, body)
    github = top / ".github"
    copilot = _read(github / "copilot-instructions.md")
    if copilot is not None:
        add(github / "copilot-instructions.md", copilot)
    for instructions in sorted((github / "instructions").glob("*.instructions.md")):
        meta, body = _split(_read(instructions) or "")
        if _matches(_globs(meta.get("applyTo")), relative):
            add(instructions, body)
    described: list[str] = []
    for mdc in sorted((top / ".cursor" / "rules").glob("*.mdc")):
        meta, body = _split(_read(mdc) or "")
        if meta.get("alwaysApply") is True or _matches(_globs(meta.get("globs")), relative):
            add(mdc, body)
        elif isinstance(meta.get("description"), str):
            described.append(f"- {display_path(mdc, roots)}: {meta['description']}")
    if described:
        found.append(
            Convention(".cursor/rules", "Rules to read when they apply:\n" + "\n".join(described))
        )
    agents_md = next(
        (f / "AGENTS.md" for f in reversed(folders) if (f / "AGENTS.md").is_file()), None
    )
    if agents_md is not None:
        add(agents_md, _read(agents_md) or "")
    found.reverse()
    return found


def called_conventions(
    packages: list[Path], found: list[Convention], roots: tuple[Path, ...]
) -> list[Convention]:
    """The `CLAUDE.md` and `AGENTS.md` of workspace package folders the code calls into (as
    Claude Code loads a folder's `CLAUDE.md` when it reads a file there), not those already in
    ``found``; nearest package first."""
    shown = {convention.source for convention in found}
    out: list[Convention] = []
    for folder in packages:
        for name in ("CLAUDE.md", "AGENTS.md"):
            path = folder / name
            source = display_path(path, roots)
            text = _read(path) if source not in shown else None
            if text is not None and text.strip():
                shown.add(source)
                out.append(Convention(source, text.strip(), called=True))
    return out


def render(
    found: list[Convention], budget_tokens: int, file: str = "", task: str = ""
) -> str | None:
    """The conventions as one block of the prompt, most specific first, within the budget. A
    file longer than what is left is cut to its sections that fit: first its opening, then those
    whose heading names what ``task`` (the instruction) is about, the most words of it first,
    then those whose heading names the area of ``file`` (the path as shown), then the others in
    order."""
    if not found:
        return None
    parts, used = [], 0
    area = _area_words(file)
    asked = _task_words(task)
    for convention in found:
        if convention.called:
            # A package the code calls: its opening says what it asks of callers.
            opening = "\n".join(_sections(convention.text)[0]).strip()
            heading = f"## From `{convention.source}` (its opening: a package the code calls)"
            cost = _tokens(heading) + _tokens(opening)
            if opening and used + cost <= budget_tokens:
                used += cost
                parts.append(f"{heading}\n{opening}")
            continue
        cost = _tokens(convention.text)
        if used + cost <= budget_tokens:
            used += cost
            parts.append(f"## From `{convention.source}`\n{convention.text}")
            continue
        source = convention.source
        # Room for the heading, whose line counts are not known yet: 99,999 lines at most.
        left = budget_tokens - used - _tokens(_cut_heading(source, 99_999, 99_999))
        head = _cut(convention.text, left, area, asked) if left >= _MIN_CUT_TOKENS else None
        if head is None:
            parts.append(f"(`{source}` left out to fit; `view` it if it matters.)")
            continue
        text, shown, total = head
        heading = _cut_heading(source, shown, total)
        used += _tokens(heading) + _tokens(text)
        parts.append(f"{heading}\n{text}")
    return "# The project's conventions\nFollow these where they apply.\n\n" + "\n\n".join(parts)


def _cut_heading(source: str, shown: int, total: int) -> str:
    return f"## From `{source}` (cut to fit: {shown} of its {total} lines; `view` it for the rest)"


_MIN_CUT_TOKENS = 150
"""Less room than this left for a long file: its name alone is more use than a scrap of it."""
_HEADING = re.compile(r"^#{1,6}\s")
_FENCE = re.compile(r"^\s*(```|~~~)")
_WORD = re.compile(r"[a-z]+")
_GENERIC = frozenset({"src", "lib", "libs", "app", "apps", "packages", "modules", "index", "ts"})
_AREAS = {
    "db": "database",
    "model": "database",
    "models": "database",
    "schema": "database",
    "migrations": "database",
    "repository": "database",
    "repo": "database",
    "queries": "database",
    "router": "route",
    "routers": "route",
    "routes": "route",
    "handler": "route",
    "handlers": "route",
    "controller": "route",
}
"""Words of a path and the heading words that name their area (a model file: `Database`)."""


def _tokens(text: str) -> int:
    return (len(text) + 3) // 4


_PLAIN = frozenset(
    {"this", "that", "with", "from", "into", "what", "when", "where", "which", "their", "there"}
    | {"code", "make", "sure", "keep", "same", "need", "needs", "only", "right", "each", "them"}
)
"""Words of an instruction that say nothing about what it is about."""


def _task_words(task: str) -> frozenset[str]:
    """What an instruction is about, as heading words: `Add error handling` -> error, handling."""
    words = {word for word in _WORD.findall(task.lower()) if len(word) > 3} - _PLAIN
    words |= {word[:-1] for word in words if word.endswith("s") and len(word) > 4}
    return frozenset(words | {_AREAS[word] for word in words if word in _AREAS})


def _area_words(file: str) -> frozenset[str]:
    words = set(_WORD.findall(file.lower())) - _GENERIC
    words |= {word[:-1] for word in words if word.endswith("s") and len(word) > 4}
    return frozenset(words | {_AREAS[word] for word in words if word in _AREAS})


def _sections(text: str) -> list[list[str]]:
    """The lines of each section: the opening, then one per heading (not inside code)."""
    sections: list[list[str]] = [[]]
    fenced = False
    for line in text.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and _HEADING.match(line) and sections[-1]:
            sections.append([])
        sections[-1].append(line)
    return sections


def _cut(
    text: str, budget_tokens: int, area: frozenset[str], asked: frozenset[str] = frozenset()
) -> tuple[str, int, int] | None:
    """(the sections that fit, shown in their order with a mark where some were left out, how
    many lines that is, of how many); None when not even the opening fits."""
    sections = _sections(text)
    # A line break and a share of the `[…]` marks between the sections.
    cost = [_tokens("\n".join(lines)) + 2 for lines in sections]
    if cost[0] > budget_tokens:
        return None
    headings = [set(_WORD.findall(lines[0].lower())) for lines in sections]
    # The task's own words first (the most of them first), then the file's area.
    by_task = sorted(
        (i for i in range(1, len(sections)) if asked & headings[i]),
        key=lambda i: (-len(asked & headings[i]), i),
    )
    matching = by_task + [i for i in range(1, len(sections)) if area & headings[i]]
    chosen, used = {0}, cost[0]
    for index in matching + list(range(1, len(sections))):
        if index not in chosen and used + cost[index] <= budget_tokens:
            chosen.add(index)
            used += cost[index]
    out: list[str] = []
    for index, lines in enumerate(sections):
        if index in chosen:
            out += lines
        elif not out or out[-1] != "[…]":
            out.append("[…]")
    shown = sum(len(sections[i]) for i in chosen)
    return "\n".join(out), shown, sum(len(lines) for lines in sections)
