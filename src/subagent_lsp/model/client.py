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


class ClientPool:
    """One SDK client per configuration, reused so that its connections stay open between requests."""

    def __init__(self) -> None:
        self._config: tuple[object, ...] | None = None
        self._client: AsyncAnthropic | None = None

    def get(self, settings: Settings) -> AsyncAnthropic:
        config = (
            settings.resolved_api_key(),
            settings.resolved_base_url(),
            settings.request_timeout,
            settings.max_retries,
        )
        if self._client is None or config != self._config:
            # The previous client's pooled connections close when it is garbage collected.
            self._client = make_client(settings)
            self._config = config
        return self._client
