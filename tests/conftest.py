from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.fakes.anthropic_api import FakeAnthropic
from tests.helpers import DUMMY_KEY, make_project
from tests.lsp.editor import Editor, server_config


@pytest.fixture
def fake_api() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as api:
        yield api


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the example backend with the canonical agent file in its .claude/agents."""
    return make_project(tmp_path / "project")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    return home


@pytest.fixture
def server_env(fake_api: FakeAnthropic, home: Path) -> dict[str, str]:
    return {
        "HOME": str(home),
        "ANTHROPIC_API_KEY": DUMMY_KEY,
        "ANTHROPIC_BASE_URL": fake_api.base_url,
    }


@pytest_asyncio.fixture(params=["neovim", "vscode"])
async def editor(
    request: pytest.FixtureRequest, project: Path, server_env: dict[str, str]
) -> AsyncIterator[Editor]:
    """An editor with each client's capabilities, started on the example project."""
    client = await server_config(server_env).start()
    editor = Editor(client, project, request.param)
    await editor.initialize()
    try:
        yield editor
    finally:
        await editor.shutdown()
        await client.stop()
