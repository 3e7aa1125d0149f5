"""Constants shared by the tests and by conftest's fixtures: where things are, and the fake API key."""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
DUMMY_KEY = "sk-ant-test-dummy-key-0000"


def make_project(root: Path) -> Path:
    """A copy of the example backend at ``root``, with the canonical agent in .claude/agents."""
    shutil.copytree(EXAMPLES, root)
    agents = root / ".claude" / "agents"
    agents.mkdir(parents=True)
    shutil.copy(FIXTURES / "agents" / "backend-engineer.md", agents / "backend-engineer.md")
    return root
