"""Claude Code agent files: discover them, parse them exactly, and decide which one wins.

An agent file is Markdown with YAML frontmatter (`name`, `description`, `model`, `tools`, `color`,
anything else kept). The Markdown body is the agent's system prompt, verbatim.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from frontmatter.default_handlers import YAMLHandler

from .capabilities import Capabilities, capabilities
from .project import repository_root

log = logging.getLogger(__name__)

AgentSource = Literal["workspace", "user", "bundled"]
MODEL_ALIASES = ("sonnet", "opus", "haiku", "inherit")

_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
_FRONTMATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?---[ \t]*(?:\n|\Z)", re.DOTALL)
_SIMPLE_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:\s?(.*)$")
_YAML_SYNTAX = frozenset("[{\"'|>&*!")
_EXAMPLE = re.compile(r"<example>.*?</example>", re.DOTALL | re.IGNORECASE)
# python-frontmatter's YAML handler (a safe loader); the split is ours, because its own split
# strips the body and the body must stay verbatim.
_YAML = YAMLHandler()
_SOURCE_RANK: Mapping[AgentSource, int] = {"workspace": 0, "user": 1, "bundled": 2}
# Frontmatter is a handful of keys; these bounds refuse a file built to exhaust the server (an
# alias "bomb" expands nine aliases of nine aliases into billions of values when printed).
_MAX_FRONTMATTER = 64 * 1024
_MAX_ALIASES = 16
_MAX_DEPTH = 16


@dataclass(frozen=True)
class AgentError:
    path: Path
    message: str
    line: int
    """0-based line of the problem in the file."""


class AgentFileError(Exception):
    def __init__(self, error: AgentError) -> None:
        super().__init__(f"{error.path}:{error.line + 1}: {error.message}")
        self.error = error


PERMISSION_MODES = ("default", "acceptEdits", "auto", "dontAsk", "bypassPermissions", "plan")
_MODEL_ID = re.compile(r"^claude-[a-z0-9.-]+$")


@dataclass(frozen=True)
class Agent:
    name: str
    description: str
    model: str
    tools: tuple[str, ...] | None
    color: str | None
    prompt: str
    path: Path
    source: AgentSource
    extra: Mapping[str, object] = field(default_factory=dict)
    disallowed_tools: tuple[str, ...] = ()
    permission_mode: str = "default"
    max_turns: int | None = None
    skills: tuple[str, ...] = ()

    @property
    def capabilities(self) -> Capabilities:
        return capabilities(self.tools, self.disallowed_tools, self.permission_mode)

    @property
    def summary(self) -> str:
        """The description's first sentence, without examples: short enough for a menu."""
        text = " ".join(_EXAMPLE.sub(" ", self.description).split())
        match = re.search(r"(?<=[.!?])\s", text)
        sentence = text[: match.start()] if match else text
        return sentence if len(sentence) <= 120 else sentence[:119].rstrip() + "…"


def _lenient_frontmatter(block: str) -> dict[str, Any] | None:
    """Read `key: value` lines the way Claude Code tolerates them (unquoted colons in values)."""
    data: dict[str, Any] = {}
    current_list: list[str] | None = None
    for raw in block.splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if current_list is not None and raw.lstrip().startswith("- "):
            current_list.append(raw.lstrip()[2:].strip().strip("\"'"))
            continue
        match = _SIMPLE_KEY.match(raw)
        if match is None or raw[0].isspace():
            return None
        key, value = match[1], match[2].strip()
        if value[:1] in _YAML_SYNTAX:
            # The value was meant as YAML (a list, a quoted string, a block): it is really broken.
            return None
        if value == "":
            current_list = []
            data[key] = current_list
        else:
            current_list = None
            data[key] = value
    return data


def _split(text: str, path: Path) -> tuple[str, str, int]:
    """(frontmatter block, body, line where the body starts)."""
    match = _FRONTMATTER.match(text)
    if match is None:
        raise AgentFileError(
            AgentError(path, "the file has no YAML frontmatter between '---' lines", 0)
        )
    block = match[1] or ""
    body = text[match.end() :]
    return block, body, text[: match.end()].count("\n")


def _names(key: str, value: object, path: Path, line: int) -> tuple[str, ...] | None:
    """A comma-separated string or a list of names; None when the key is absent."""
    if value is None:
        return None
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(item.strip() for item in value if item.strip())
    raise AgentFileError(
        AgentError(path, f"'{key}' must be a comma-separated string or a list of names", line)
    )


def _key_line(block: str, key: str) -> int:
    for index, raw in enumerate(block.splitlines()):
        if raw.startswith(f"{key}:"):
            return index + 1
    return 0


def _check_bounds(block: str, path: Path) -> None:
    """Refuse frontmatter too large, too deep or too full of aliases before it is built."""
    if len(block) > _MAX_FRONTMATTER:
        raise AgentFileError(AgentError(path, "the frontmatter is larger than 64 KiB", 1))
    aliases = depth = 0
    try:
        for event in yaml.parse(block, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                aliases += 1
            elif isinstance(event, yaml.CollectionStartEvent):
                depth += 1
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            if aliases > _MAX_ALIASES or depth > _MAX_DEPTH:
                line = event.start_mark.line + 1 if event.start_mark else 1
                what = "YAML aliases" if aliases > _MAX_ALIASES else "levels of nesting"
                raise AgentFileError(
                    AgentError(
                        path, f"the frontmatter uses too many {what} to be read safely", line
                    )
                )
    except yaml.YAMLError:
        return  # malformed YAML: the loader below says so, or reads it leniently


def _shown(value: object) -> str:
    """A value for a message: never the whole of something large."""
    if not (isinstance(value, str | int | float | bool) or value is None):
        return f"a {type(value).__name__}"
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def parse_agent(text: str, path: Path, source: AgentSource) -> Agent:
    """Parse an agent file's text; raise AgentFileError with a clear sentence if it is broken."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    block, body, body_line = _split(text, path)
    _check_bounds(block, path)
    try:
        loaded = _YAML.load(block) if block.strip() else {}
    except yaml.YAMLError as exc:
        loaded = _lenient_frontmatter(block)
        if loaded is None:
            mark = getattr(exc, "problem_mark", None)
            line = (mark.line + 1) if mark is not None else 0
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise AgentFileError(
                AgentError(path, f"the frontmatter is not valid YAML: {problem}", line)
            ) from exc
    if not isinstance(loaded, dict):
        raise AgentFileError(AgentError(path, "the frontmatter must be a mapping of keys", 1))
    data: dict[str, Any] = {str(k): v for k, v in loaded.items()}

    name = data.pop("name", None)
    if name is None or (isinstance(name, str) and not name.strip()):
        raise AgentFileError(AgentError(path, "missing required field 'name'", 1))
    if not isinstance(name, str) or not _NAME.match(name.strip()):
        raise AgentFileError(
            AgentError(
                path,
                "'name' must be lowercase letters, digits and hyphens, like "
                f"'backend-engineer' (found {_shown(name)})",
                _key_line(block, "name"),
            )
        )
    description = data.pop("description", None)
    if not isinstance(description, str) or not description.strip():
        raise AgentFileError(
            AgentError(path, "missing required field 'description' (when to use this agent)", 1)
        )
    model = data.pop("model", None)
    if model is None:
        model = "inherit"
    if not isinstance(model, str) or not model.strip():
        raise AgentFileError(
            AgentError(
                path,
                "'model' must be sonnet, opus, haiku, inherit or a model id",
                _key_line(block, "model"),
            )
        )
    if model not in MODEL_ALIASES and not _MODEL_ID.match(model.strip()):
        raise AgentFileError(
            AgentError(
                path,
                f"'model: {model}' is not sonnet, opus, haiku, inherit or a model id such as "
                "claude-sonnet-4-5; the editor cannot map it",
                _key_line(block, "model"),
            )
        )
    tools = _names("tools", data.pop("tools", None), path, _key_line(block, "tools"))
    disallowed = _names(
        "disallowedTools",
        data.pop("disallowedTools", None),
        path,
        _key_line(block, "disallowedTools"),
    )
    skills = _names("skills", data.pop("skills", None), path, _key_line(block, "skills"))
    permission_mode = data.pop("permissionMode", "default")
    if permission_mode not in PERMISSION_MODES:
        raise AgentFileError(
            AgentError(
                path,
                f"'permissionMode' must be one of {', '.join(PERMISSION_MODES)}",
                _key_line(block, "permissionMode"),
            )
        )
    max_turns = data.pop("maxTurns", None)
    if max_turns is not None and (
        not isinstance(max_turns, int) or isinstance(max_turns, bool) or max_turns < 1
    ):
        raise AgentFileError(
            AgentError(
                path,
                "'maxTurns' must be a whole number of at least 1",
                _key_line(block, "maxTurns"),
            )
        )
    color = data.pop("color", None)
    prompt = body.lstrip("\n")
    if not prompt.strip():
        raise AgentFileError(
            AgentError(path, "the agent file has no prompt after the frontmatter", body_line)
        )
    return Agent(
        name=name.strip(),
        description=description.strip(),
        model=model.strip(),
        tools=tools,
        color=str(color) if color is not None else None,
        prompt=prompt,
        path=path,
        source=source,
        extra=data,
        disallowed_tools=disallowed or (),
        permission_mode=str(permission_mode),
        max_turns=max_turns,
        skills=skills or (),
    )


def _name_line(path: Path) -> int:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return 0
    return next((n for n, line in enumerate(lines) if line.startswith("name:")), 0)


def load_agent_file(path: Path, source: AgentSource) -> Agent:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise AgentFileError(AgentError(path, "the file is not UTF-8 text", 0)) from exc
    except OSError as exc:
        raise AgentFileError(AgentError(path, f"cannot read the file: {exc.strerror}", 0)) from exc
    return parse_agent(text, path, source)


@dataclass(frozen=True)
class AgentSet:
    agents: Mapping[str, Agent]
    errors: tuple[AgentError, ...]
    folders: tuple[Path, ...] = ()
    """The agent folders looked in, in precedence order, whether or not they exist."""

    def get(self, name: str) -> Agent | None:
        return self.agents.get(name)

    def ordered(self) -> list[Agent]:
        return sorted(self.agents.values(), key=lambda a: (_SOURCE_RANK[a.source], a.name))

    def default(self) -> Agent:
        """The agent an `@agent:` comment means."""
        ordered = self.ordered()
        if not ordered:
            raise LookupError("no agents are loaded")
        preferred = self.agents.get("backend-engineer")
        if preferred is not None and preferred.source != "bundled":
            return preferred
        return ordered[0]


def bundled_agents_dir() -> Path:
    return Path(__file__).parent / "data" / "agents"


def _agent_files(directory: Path) -> list[Path]:
    try:
        return sorted(p for p in directory.iterdir() if p.suffix == ".md" and p.is_file())
    except OSError:
        return []


@lru_cache(maxsize=64)
def workspace_agent_dirs(root: Path) -> tuple[Path, ...]:
    """`.claude/agents` of a workspace folder, then of each folder above it up to the repository
    root (the nearest folder holding `.git`), nearest first: a monorepo keeps its agents at the
    top while the editor may open `apps/api`. Outside a repository, the folder's own only."""
    chain = [root, *root.parents]
    top = repository_root(root) or root
    return tuple(folder / ".claude" / "agents" for folder in chain[: chain.index(top) + 1])


def discover(
    workspace_roots: Sequence[Path],
    user_dir: Path | None,
    *,
    include_workspace: bool = True,
    include_bundled: bool = True,
) -> AgentSet:
    """Every agent that applies: workspace over user over bundled; broken files are reported."""
    agents: dict[str, Agent] = {}
    errors: list[AgentError] = []
    places: list[tuple[Path, AgentSource]] = []
    if include_workspace:
        for root in workspace_roots:
            places += [(folder, "workspace") for folder in workspace_agent_dirs(root)]
    if user_dir is not None:
        places.append((user_dir, "user"))
    for directory, source in places:
        for path in _agent_files(directory):
            try:
                agent = load_agent_file(path, source)
            except AgentFileError as exc:
                log.warning("skipping agent file %s: %s", path, exc.error.message)
                errors.append(exc.error)
                continue
            first = agents.setdefault(agent.name, agent)
            if first is agent:
                continue
            if first.path.parent == path.parent:
                # Two files of one folder: Claude Code, too, keeps one; say which.
                message = f"'{agent.name}' is already defined by {first.path.name}, which wins"
                errors.append(AgentError(path, message, _name_line(path)))
            else:
                log.info("agent %s of %s is shadowed by %s", agent.name, path, first.path)
    if include_bundled and not agents:
        for path in _agent_files(bundled_agents_dir()):
            agent = load_agent_file(path, "bundled")
            agents.setdefault(agent.name, agent)
    folders = tuple(dict.fromkeys(directory for directory, _ in places))
    return AgentSet(agents, tuple(errors), folders)


def is_agent_file(path: Path, workspace_roots: Sequence[Path], user_dir: Path | None) -> bool:
    if path.suffix != ".md":
        return False
    parent = path.parent
    if user_dir is not None and parent == user_dir:
        return True
    return any(parent in workspace_agent_dirs(root) for root in workspace_roots)
