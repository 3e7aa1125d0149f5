"""Claude Code skills an agent preloads: its `skills` field names them, and each one's
`SKILL.md` is put whole into the agent's prompt, as Claude Code does for subagents."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger(__name__)

_MAX_SKILL_CHARS = 40_000


def load_skills(
    names: Sequence[str], folders: Sequence[Path], user_dir: Path | None
) -> list[tuple[str, str]]:
    """(name, text) of each named skill: a workspace's `.claude/skills/NAME/SKILL.md` (in the
    order of ``folders``, each a `.claude` folder), then the user's; a skill found nowhere is
    logged and left out. Reads files: call it off the event loop."""
    places = [*folders, *([user_dir] if user_dir is not None else [])]
    found: list[tuple[str, str]] = []
    for name in names:
        if "/" in name or "\\" in name or name.startswith("."):
            log.info("skill %r is not a plain name; left out", name)
            continue
        for place in places:
            path = place / "skills" / name / "SKILL.md"
            try:
                text = path.read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError):
                continue
            found.append((name, text[:_MAX_SKILL_CHARS]))
            break
        else:
            log.info("skill %r was not found in %s", name, ", ".join(map(str, places)))
    return found
