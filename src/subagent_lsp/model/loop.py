"""The bounded tool loop: stream a reply, run the edit tool calls it asks for, answer them, repeat."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import ModelError
from .tools import ToolResult

if TYPE_CHECKING:
    from anthropic import AsyncAnthropic

log = logging.getLogger(__name__)


ToolExecutor = Callable[[str, Mapping[str, object]], Awaitable[ToolResult]]
"""Runs one tool call: the tool's name and its input."""


@dataclass(frozen=True)
class StreamProgress:
    turn: int
    output_tokens: int
    """Output tokens streamed so far over all turns (an estimate until each reply's usage arrives)."""
    tool_calls: int
    last_tool: str | None


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0

    def add(self, usage: Any) -> None:
        self.input_tokens += getattr(usage, "input_tokens", 0) or 0
        self.output_tokens += getattr(usage, "output_tokens", 0) or 0
        self.cache_creation_input_tokens += getattr(usage, "cache_creation_input_tokens", 0) or 0
        self.cache_read_input_tokens += getattr(usage, "cache_read_input_tokens", 0) or 0


@dataclass
class LoopOutcome:
    text: str
    usage: Usage
    turns: int
    tool_calls: int
    tool_errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ModelRequest:
    """Everything one conversation starts from; built in `prompt.py`."""

    model: str
    system: Sequence[Mapping[str, Any]]
    user: Sequence[Mapping[str, Any]]
    tools: Sequence[Mapping[str, Any]]
    max_tokens: int
    cache_turns: bool = False
    """Mark the newest message of each turn for the prompt cache, so turn N+1 reads 1..N."""
    betas: tuple[str, ...] = ()
    """API betas the request's tools need (the `anthropic-beta` header)."""


# Rough characters per token for the running estimate shown while a reply streams.
_CHARS_PER_TOKEN = 4


async def run_tool_loop(
    client: AsyncAnthropic,
    request: ModelRequest,
    execute: ToolExecutor,
    *,
    max_turns: int,
    on_progress: Callable[[StreamProgress], None] | None = None,
) -> LoopOutcome:
    """Run the conversation until the model ends its turn; raise ModelError on anything unusable."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": list(request.user)}]
    usage = Usage()
    settled_tokens = 0
    tool_calls = 0
    tool_errors: list[str] = []
    last_tool: str | None = None
    final_text: list[str] = []

    for turn in range(1, max_turns + 1):
        turn_chars = 0
        async with client.messages.stream(
            model=request.model,
            max_tokens=request.max_tokens,
            system=list(request.system),  # type: ignore[arg-type]
            messages=_cache_marked(messages) if request.cache_turns else messages,  # type: ignore[arg-type]
            tools=list(request.tools),  # type: ignore[arg-type]
            extra_headers={"anthropic-beta": ",".join(request.betas)} if request.betas else None,
        ) as stream:
            async for event in stream:
                delta = ""
                if event.type == "text":
                    delta = event.text
                elif event.type == "input_json":
                    delta = event.partial_json
                if delta:
                    turn_chars += len(delta)
                    if on_progress is not None:
                        on_progress(
                            StreamProgress(
                                turn,
                                settled_tokens + turn_chars // _CHARS_PER_TOKEN,
                                tool_calls,
                                last_tool,
                            )
                        )
            message = await stream.get_final_message()
        usage.add(message.usage)
        settled_tokens = usage.output_tokens

        stop = message.stop_reason
        if stop == "max_tokens":
            raise ModelError(
                "The model's reply reached the output limit before it finished, so nothing was "
                "applied: select less code or raise subagentLsp.maxTokens."
            )
        if stop == "refusal":
            raise ModelError("The model declined this request, so nothing was applied.")

        texts = [block.text for block in message.content if block.type == "text"]
        final_text = texts or final_text
        if stop == "pause_turn":
            # A long server-side tool turn (web search) paused: send it back as it is, and the
            # API carries on where it stopped.
            messages.append({"role": "assistant", "content": [_echo(b) for b in message.content]})
            continue
        tool_uses = [block for block in message.content if block.type == "tool_use"]
        if stop != "tool_use" or not tool_uses:
            return LoopOutcome("\n".join(final_text).strip(), usage, turn, tool_calls, tool_errors)

        results: list[dict[str, Any]] = []
        offered = [str(tool.get("name")) for tool in request.tools]
        for block in tool_uses:
            tool_calls += 1
            if block.name not in offered:
                outcome = ToolResult(
                    f"Unknown tool {block.name!r}; the tools here are {', '.join(offered)}.", True
                )
            elif not isinstance(block.input, dict):
                # A malformed input_json stream leaves something that is not an object.
                outcome = ToolResult("The tool input was not a JSON object; send it again.", True)
            else:
                last_tool = str(block.input.get("command", block.name))
                outcome = await execute(block.name, block.input)
            if outcome.is_error:
                tool_errors.append(outcome.content)
                log.info("tool call %s failed: %s", block.id, outcome.content)
            results.append(
                {
                    "type": "tool_result",
                    "tool_use_id": block.id,
                    "content": outcome.content,
                    "is_error": outcome.is_error,
                }
            )
        if on_progress is not None:
            on_progress(StreamProgress(turn, settled_tokens, tool_calls, last_tool))
        messages.append({"role": "assistant", "content": [_echo(b) for b in message.content]})
        messages.append({"role": "user", "content": results})

    raise ModelError(
        f"The agent was stopped after {max_turns} rounds of tool calls without finishing, so nothing "
        "was applied: narrow the request or raise subagentLsp.maxToolTurns."
    )


def _cache_marked(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages with one cache breakpoint, at the end of the newest user message (the
    newest of all but after a paused server-tool turn): with the system prompt's, two of the
    API's four, and every earlier turn is read from the cache."""
    marked = [dict(message) for message in messages]
    last = next(m for m in reversed(marked) if m["role"] == "user")
    content = [dict(block) for block in last["content"]]
    content[-1]["cache_control"] = {"type": "ephemeral"}
    last["content"] = content
    return marked


def _echo(block: Any) -> dict[str, Any]:
    """The assistant block as it must be sent back in the next turn."""
    if block.type == "text":
        return {"type": "text", "text": block.text}
    if block.type == "tool_use":
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    dumped: dict[str, Any] = block.model_dump(exclude_none=True)
    return dumped
