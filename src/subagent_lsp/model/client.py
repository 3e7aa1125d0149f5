"""Build the SDK client from settings; the SDK is imported here, lazily, to keep start-up fast."""

from __future__ import annotations

import asyncio
import importlib
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from .errors import NoApiKey

if TYPE_CHECKING:
    from anthropic import AsyncAnthropic

    from ..settings import Settings


ClientFactory = Callable[["Settings"], "AsyncAnthropic"]
"""Gives the SDK client for a configuration; callers outside `model/` hold it without naming it."""


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


# Imports of the SDK under way in worker threads. Counted by the thread itself, so an import that
# outlives a cancelled request still shows as loading, and the next request waits for it in a
# thread of its own rather than on the event loop.
_importing = 0
_importing_lock = threading.Lock()


def sdk_state() -> str:
    """ "not loaded", "loading" or "loaded", for the status command."""
    if _importing:
        return "loading"
    return "loaded" if "anthropic" in sys.modules else "not loaded"


def _import_sdk() -> None:
    global _importing
    with _importing_lock:
        _importing += 1
    try:
        importlib.import_module("anthropic")
    finally:
        with _importing_lock:
            _importing -= 1


async def load_sdk(settings: Settings) -> None:
    """Import the SDK in a worker thread before the first client is made.

    Importing it builds typed models for the whole API, about two seconds here; on the event loop
    that would leave every hover, code action and cancellation unanswered meanwhile. Without a key
    there is nothing to load: the request fails at once with the sentence that says so.
    """
    if settings.resolved_api_key() and sdk_state() != "loaded":
        await asyncio.to_thread(_import_sdk)


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
