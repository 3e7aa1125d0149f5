"""Build the SDK client from settings; the SDK is imported here, lazily, to keep start-up fast."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import NoApiKey

if TYPE_CHECKING:
    from anthropic import AsyncAnthropic

    from ..settings import Settings


def make_client(settings: Settings) -> AsyncAnthropic:
    key = settings.resolved_api_key()
    if not key:
        raise NoApiKey()
    import anthropic

    return anthropic.AsyncAnthropic(
        api_key=key,
        base_url=settings.resolved_base_url(),
        timeout=settings.request_timeout,
        max_retries=settings.max_retries,
    )
