"""The agent's explanation of hovered code: one cheap model call, cached by the code and its context."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from ..agents import Agent
from ..context.gather import Context
from ..model.errors import ModelError
from ..settings import Settings

if TYPE_CHECKING:
    from anthropic import AsyncAnthropic

HOVER_PROTOCOL = """\
# Explaining code in the editor
A developer is hovering over code in their editor. In at most 120 words of Markdown:
1. say what the code does, in one or two sentences;
2. list the real risks you see (validation, error handling, performance, security), most serious first,
   and say "no notable risks" if there are none;
3. give one concrete suggestion, with a short code snippet only if it is clearer than words.
Do not repeat the facts already shown above your explanation. No headings, no preamble."""


class ExplanationCache:
    """Explanations by what they were computed from; a change to the code or its context misses."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._items: OrderedDict[str, str] = OrderedDict()

    @staticmethod
    def key(agent: Agent, model: str, facts: str, context: Context) -> str:
        digest = hashlib.sha256()
        for part in (agent.name, agent.prompt, model, facts, context.render()):
            digest.update(part.encode("utf-8"))
            digest.update(b"\0")
        return digest.hexdigest()

    def get(self, key: str) -> str | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: str, value: str) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def __contains__(self, key: str) -> bool:
        return key in self._items


def explanation_request(
    agent: Agent, model: str, facts: str, context: Context, settings: Settings
) -> dict[str, Any]:
    system: list[dict[str, Any]] = [
        {"type": "text", "text": agent.prompt},
        {"type": "text", "text": HOVER_PROTOCOL},
    ]
    if settings.prompt_caching:
        system[-1]["cache_control"] = {"type": "ephemeral"}
    return {
        "model": model,
        "max_tokens": settings.hover_max_tokens,
        "system": system,
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": context.render()},
                    {"type": "text", "text": f"## Shown above your explanation\n{facts}"},
                ],
            }
        ],
    }


async def explain(request: dict[str, Any], client: AsyncAnthropic) -> str:
    """Stream one explanation; raise ModelError or an SDK error on failure."""
    async with client.messages.stream(**request) as stream:
        message = await stream.get_final_message()
    if message.stop_reason == "refusal":
        raise ModelError("The model declined to explain this code.")
    text = "".join(block.text for block in message.content if block.type == "text").strip()
    if not text:
        raise ModelError("The model returned an empty explanation.")
    return text
