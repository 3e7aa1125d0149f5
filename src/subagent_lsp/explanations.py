"""Explanations the model gave, by the request they answered: a change to the code, its context,
the agent or the model misses."""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict

from .model.loop import ModelRequest


def explanation_key(request: ModelRequest) -> str:
    digest = hashlib.sha256()
    digest.update(request.model.encode("utf-8"))
    for block in (*request.system, *request.user):
        digest.update(b"\0")
        digest.update(str(block.get("text", json.dumps(block, sort_keys=True))).encode("utf-8"))
    return digest.hexdigest()


class ExplanationCache:
    """The most recently used explanations, at most ``size`` of them."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._items: OrderedDict[str, str] = OrderedDict()

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
