"""Answering from memory alone, for work that must not touch the disk (listing code actions).

The workspace's caches (parse trees, resolved imports, `.gitignore` files) answer a *peek* only
from what they already hold; where the answer needs the disk they raise `NeedsDisk`, and the
caller does without, or asks again off the event loop.
"""

from __future__ import annotations


class NeedsDisk(LookupError):
    """The answer is not in memory; finding it means reading files."""
