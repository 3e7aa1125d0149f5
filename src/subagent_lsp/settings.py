"""One typed settings object: defaults, environment, initializationOptions and workspace/configuration.

Every option lives here next to its default, under the LSP section ``subagentLsp``. Later sources win:
defaults < environment < initializationOptions < workspace/configuration.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SECTION = "subagentLsp"

DEFAULT_MODELS: Mapping[str, str] = {
    "opus": "claude-opus-5-5",
    "sonnet": "claude-sonnet-5-5",
    "haiku": "claude-haiku-5-5",
}


@dataclass(frozen=True)
class Settings:
    # The key is read from the environment at call time only; it is never logged or echoed.
    api_key: str | None = None
    """Anthropic API key; falls back to ANTHROPIC_API_KEY."""
    base_url: str | None = None
    """Messages API base URL (a gateway or a compatible local server); falls back to ANTHROPIC_BASE_URL."""
    models: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_MODELS))
    """Agent `model` alias -> model id."""
    default_model: str = "sonnet"
    """What an agent with `model: inherit` (or none) uses: an alias or a full model id."""
    action_models: Mapping[str, str] = field(default_factory=dict)
    """Action id -> alias or model id, overriding the agent's model for that kind of action."""
    max_tokens: int = 8192
    """Output token limit of one model reply."""
    max_tool_turns: int = 12
    """How many rounds of tool calls one action may take before it is stopped."""
    request_timeout: float = 120.0
    """Seconds before a model request is given up."""
    max_retries: int = 2
    """Retries for rate limits, overload and server errors, following the API's retry-after."""
    compatible_endpoint: bool = False
    """Send the edit tool as an ordinary tool with an explicit schema (for Anthropic-compatible servers)."""
    prompt_caching: bool = True
    """Mark the agent prompt and the stable request prefix for the prompt cache."""
    user_agents_dir: str | None = None
    """Where user-level agents live; default ~/.claude/agents."""
    workspace_agents: bool = True
    """Load agent files from the workspace's .claude/agents (turn off for untrusted workspaces)."""
    context_tokens: int = 6000
    """Token budget for the code context sent with a request (the selection always goes)."""
    exclude: tuple[str, ...] = ()
    """Glob patterns (root-relative paths or file names) the agent may never read or write."""
    diagnostics: bool = True
    """Hints from the code's facts (unvalidated input, unindexed columns, queries in loops,
    foreign keys without an index), without any model call."""
    web_tools: bool = False
    """Give agents whose tools include WebSearch or WebFetch the API's server-side web search
    and fetch (off: the selection's code and the fetched pages would meet in one request)."""
    menu_agents: tuple[str, ...] = ()
    """Agents whose actions the code action menu shows: names, or ["all"]; by default the best
    editing agent for backend work and the best read-only reviewer."""
    edit_review: str = "review"
    """`review`: an agent's change is shown for accept or discard before it lands (agents in
    `acceptEdits` mode excepted); `direct`: every change lands at once, as an undoable edit."""
    hover_mode: str = "model"
    """Hover: `model` (facts, then the agent's explanation), `static` (facts only) or `off`."""
    hover_model: str = "haiku"
    """Model for hover explanations: an alias or a model id (the fast tier by default)."""
    hover_max_tokens: int = 700
    """Output limit of one hover explanation."""

    def resolved_api_key(self) -> str | None:
        return self.api_key or os.environ.get("ANTHROPIC_API_KEY") or None

    def resolved_base_url(self) -> str | None:
        return self.base_url or os.environ.get("ANTHROPIC_BASE_URL") or None

    def user_dir(self) -> Path:
        if self.user_agents_dir:
            return Path(self.user_agents_dir).expanduser()
        return Path.home() / ".claude" / "agents"

    def model_for(self, agent_model: str, action_id: str | None = None) -> str:
        """The model id for an agent's `model` field, honouring a per-action override."""
        wanted = agent_model
        if action_id is not None and action_id in self.action_models:
            wanted = self.action_models[action_id]
        if wanted in ("", "inherit"):
            wanted = self.default_model
        return self.models.get(wanted, wanted)

    def hover_model_id(self) -> str:
        return self.models.get(self.hover_model, self.hover_model)

    def merged(self, options: Mapping[str, Any] | None) -> Settings:
        """A copy with an LSP client's camelCase options applied; bad keys are logged, not used."""
        if not options:
            return self
        section = options.get(SECTION, options)
        if not isinstance(section, Mapping):
            return self
        nested = section.get("hover")
        if isinstance(nested, Mapping):
            # `hover.mode` / `hover.model` read the same as hoverMode / hoverModel.
            section = {k: v for k, v in section.items() if k != "hover"}
            section.update({f"hover{k[:1].upper()}{k[1:]}": v for k, v in nested.items()})
        changes: dict[str, Any] = {}
        by_camel = {_camel(f.name): f for f in fields(self)}
        for key, value in section.items():
            f = by_camel.get(key)
            if f is None:
                log.info("ignoring unknown setting %s.%s", SECTION, key)
                continue
            current = getattr(self, f.name)
            coerced = _coerce(value, current, f.name)
            if coerced is not _INVALID:
                changes[f.name] = coerced
        if "models" in changes:
            changes["models"] = {**DEFAULT_MODELS, **changes["models"]}
        if changes.get("hover_mode", "model") not in ("model", "static", "off"):
            log.warning("ignoring %s.hover.mode: use model, static or off", SECTION)
            changes.pop("hover_mode")
        if changes.get("edit_review", "review") not in ("review", "direct"):
            log.warning("ignoring %s.editReview: use review or direct", SECTION)
            changes.pop("edit_review")
        return replace(self, **changes)


_INVALID = object()


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


_OPTIONAL = frozenset({"api_key", "base_url", "user_agents_dir"})


_ZERO_ALLOWED = frozenset({"max_retries"})


def _is_number(value: Any, minimum: float = 0) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > minimum


def _coerce(value: Any, current: Any, name: str) -> Any:
    """The value if it fits the setting's type, else _INVALID (and a log line)."""
    if name in _OPTIONAL:
        if value is None or isinstance(value, str):
            return value or None
    elif isinstance(current, bool):
        if isinstance(value, bool):
            return value
    elif isinstance(current, int):
        minimum = -1 if name in _ZERO_ALLOWED else 0
        if _is_number(value, minimum) and int(value) == value:
            return int(value)
    elif isinstance(current, float):
        if _is_number(value):
            return float(value)
    elif isinstance(current, Mapping):
        if isinstance(value, Mapping) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            return dict(value)
    elif isinstance(current, tuple):
        if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            return tuple(value)
        if isinstance(value, str) and value:
            return (value,)
    elif isinstance(current, str) and isinstance(value, str) and value:
        return value
    log.warning("ignoring setting %s.%s: %r does not fit", SECTION, _camel(name), value)
    return _INVALID
