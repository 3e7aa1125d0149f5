"""One reply in text, without tools: the agent's explanation of hovered code."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import ModelError
from .loop import ModelRequest

if TYPE_CHECKING:
    from anthropic import AsyncAnthropic


async def explain(client: AsyncAnthropic, request: ModelRequest) -> str:
    """Stream one explanation; raise ModelError or an SDK error on failure."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": list(request.user)}]
    async with client.messages.stream(
        model=request.model,
        max_tokens=request.max_tokens,
        system=list(request.system),  # type: ignore[arg-type]
        messages=messages,  # type: ignore[arg-type]
    ) as stream:
        message = await stream.get_final_message()
    if message.stop_reason == "refusal":
        raise ModelError("The model declined to explain this code.")
    text = "".join(block.text for block in message.content if block.type == "text").strip()
    if not text:
        raise ModelError("The model returned an empty explanation.")
    return text
