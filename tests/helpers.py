"""Constants shared by the tests and by conftest's fixtures: where things are, and the fake API key."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
DUMMY_KEY = "sk-ant-test-dummy-key-0000"
