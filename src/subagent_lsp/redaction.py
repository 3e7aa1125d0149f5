"""Credentials never leave the machine: string literals that look like secrets become placeholders."""

from __future__ import annotations

import re
from functools import lru_cache

PLACEHOLDER = "<redacted secret>"

_PRIVATE_KEY = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.DOTALL
)
# Well-known token shapes: Anthropic/OpenAI-style keys, AWS, GitHub, Slack, Stripe, Google, JWTs.
_TOKENS = re.compile(
    r"\b(?:sk-(?:ant-)?[A-Za-z0-9_\-]{16,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}"
    r"|xox[abprs]-[A-Za-z0-9\-]{10,}|(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}"
    r"|AIza[0-9A-Za-z_\-]{30,}|eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,})"
)
# user:password@ inside a connection string keeps the user and the host, not the password.
_URL_PASSWORD = re.compile(
    r"(?P<scheme>\b[a-z][a-z0-9+.\-]*://)(?P<user>[^:/@\s\"'`]+):[^@/\s\"'`]+@"
)
# `password: "..."`, `apiKey = '...'`, `SECRET_TOKEN: "..."` and the like.
_NAMED_SECRET = re.compile(
    r"(?P<name>\b[\w$]*(?:password|passwd|secret|token|api[_-]?key|apikey|private[_-]?key|"
    r"access[_-]?key|client[_-]?secret)[\w$]*\b\s*[:=]\s*)(?P<quote>[\"'`])(?P<value>[^\"'`\n]{6,})(?P=quote)",
    re.IGNORECASE,
)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def sendable(text: str) -> str:
    """Text that can travel as UTF-8: a lone surrogate (a JSON escape typed into a document)
    becomes U+FFFD, as any UTF-8 encoder would write it."""
    return _LONE_SURROGATE.sub("\ufffd", text) if not text.isascii() else text


@lru_cache(maxsize=4096)
def redact(text: str) -> str:
    # Cached: the same definitions are redacted again for every request that includes them.
    text = sendable(text)
    text = _PRIVATE_KEY.sub(PLACEHOLDER, text)
    text = _TOKENS.sub(PLACEHOLDER, text)
    text = _URL_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:{PLACEHOLDER}@", text)

    def named(match: re.Match[str]) -> str:
        value = match["value"]
        # `process.env.X` lookups and obvious placeholders are not secrets.
        if value.startswith(("process.env", "${")) or PLACEHOLDER in value:
            return match[0]
        return f"{match['name']}{match['quote']}{PLACEHOLDER}{match['quote']}"

    return _NAMED_SECRET.sub(named, text)
