"""The arguments of the server's commands (ids in `ids.py`), checked at the edge."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lsprotocol import types


class BadArguments(ValueError):
    pass


@dataclass(frozen=True)
class ActionArgs:
    uri: str
    range: types.Range
    agent: str | None
    action: str
    instruction: str | None


def _position(value: Any, what: str) -> types.Position:
    if not isinstance(value, Mapping):
        raise BadArguments(f"{what} must be an object with line and character")
    line, character = value.get("line"), value.get("character")
    if not (isinstance(line, int) and isinstance(character, int)) or line < 0 or character < 0:
        raise BadArguments(f"{what} needs non-negative integer line and character")
    return types.Position(line=line, character=character)


def _optional_str(raw: Mapping[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadArguments(f"'{key}' must be a string")
    return value


def parse_action_args(args: tuple[Any, ...], *, free_form: bool) -> ActionArgs:
    if len(args) != 1 or not isinstance(args[0], Mapping):
        raise BadArguments("expected one argument: an object with uri, range and the action")
    raw = args[0]
    uri = raw.get("uri")
    if not isinstance(uri, str) or not uri:
        raise BadArguments("'uri' must be the document's uri")
    rng = raw.get("range")
    if not isinstance(rng, Mapping):
        raise BadArguments("'range' must be an object with start and end")
    start, end = _position(rng.get("start"), "range.start"), _position(rng.get("end"), "range.end")
    if (end.line, end.character) < (start.line, start.character):
        start, end = end, start
    instruction = _optional_str(raw, "instruction")
    if free_form:
        if not instruction or not instruction.strip():
            raise BadArguments("'instruction' must say what the agent should do")
        action = "ask"
    else:
        action_value = _optional_str(raw, "action")
        if not action_value:
            raise BadArguments("'action' must name the action to run")
        action = action_value
    return ActionArgs(
        uri, types.Range(start=start, end=end), _optional_str(raw, "agent"), action, instruction
    )
