"""Turn every way a model call can fail into one sentence a user can act on."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..settings import Settings

KEY_HINT = "set ANTHROPIC_API_KEY or the subagentLsp.apiKey setting"


class ModelError(Exception):
    """A failure the user must see; ``str(error)`` is the sentence to show."""


class NoApiKey(ModelError):
    def __init__(self) -> None:
        super().__init__(f"No Anthropic API key is set: {KEY_HINT}, then try again.")


def _retry_after(exc: object) -> str:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    value = headers.get("retry-after") if headers is not None else None
    if value:
        return f" Try again in {value} s."
    return " Try again in a minute."


def sentence_for(exc: BaseException, settings: Settings, model: str) -> str:
    """The user-facing sentence for an exception raised by the anthropic SDK (or our own ModelError)."""
    if isinstance(exc, ModelError):
        return str(exc)
    import anthropic

    where = settings.resolved_base_url() or "the Anthropic API"
    if isinstance(exc, anthropic.AuthenticationError):
        return f"The Anthropic API rejected the API key (401): {KEY_HINT} to a valid key."
    if isinstance(exc, anthropic.PermissionDeniedError):
        return "The API key may not use this model or feature (403): check the key's workspace and limits."
    if isinstance(exc, anthropic.NotFoundError):
        return (
            f"Model '{model}' was not found (404): pick another in the subagentLsp.models setting "
            "or the agent's model field."
        )
    if isinstance(exc, anthropic.RateLimitError):
        return "The Anthropic API is rate limiting this key (429)." + _retry_after(exc)
    # Mid-stream the SDK lets its HTTP library's own errors through; name them without importing it.
    lineage = {cls.__name__ for cls in type(exc).__mro__}
    if isinstance(exc, anthropic.APITimeoutError) or "TimeoutException" in lineage:
        return (
            f"The model did not answer within {settings.request_timeout:g} s: try again, or raise "
            "subagentLsp.requestTimeout."
        )
    if "TransportError" in lineage:
        return "The connection to the API broke off in the middle of the reply: try again."
    if isinstance(exc, anthropic.APIConnectionError):
        return f"Could not reach {where}: check the network or subagentLsp.baseUrl."
    if isinstance(exc, anthropic.APIStatusError):
        status = exc.status_code
        if status == 413:
            return "The request was too large for the API (413): select less code and try again."
        if status == 529 or "overloaded" in str(exc).lower():
            return "The Anthropic API is overloaded right now (529)." + _retry_after(exc)
        if status >= 500:
            return f"The Anthropic API failed with a server error ({status}): try again shortly."
        return f"The Anthropic API refused the request ({status}): {_api_message(exc)}"
    if isinstance(exc, anthropic.APIError):
        # Errors delivered as an `error` event inside an otherwise healthy stream land here.
        text = _api_message(exc)
        if "overloaded" in text.lower():
            return "The Anthropic API is overloaded right now." + _retry_after(exc)
        return f"The model stream failed: {text} Try again."
    return f"The model request failed unexpectedly ({type(exc).__name__}): see the server log."


def _api_message(exc: object) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
    message = getattr(exc, "message", None)
    return str(message) if message else str(exc)
