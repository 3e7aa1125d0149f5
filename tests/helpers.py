"""Constants shared by the tests and by conftest's fixtures: where things are, and the fake API key."""

from __future__ import annotations

import shutil
from pathlib import Path

from subagent_lsp.context.gather import gather_context
from subagent_lsp.context.index import ProjectIndex
from subagent_lsp.context.items import Context
from subagent_lsp.context.references import ReferenceIndex
from subagent_lsp.exclusions import Exclusions

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


def copy_fixture(tmp_path: Path, fixture: str, name: str | None = None) -> Path:
    """A copy of ``tests/fixtures/<fixture>`` under ``tmp_path`` (as ``name``), resolved."""
    root = tmp_path / (name or fixture)
    shutil.copytree(FIXTURES / fixture, root)
    return root.resolve()


def workspace_index(root: Path, *, build: bool = True) -> tuple[ProjectIndex, ReferenceIndex]:
    """The parse-tree index and the reference index of a workspace, the latter built."""
    index = ProjectIndex([root])
    refs = ReferenceIndex((root,), index.resolver, Exclusions((root,)))
    if build:
        refs.build()
    return index, refs


def context_at(
    root: Path,
    relative: str,
    needle: str,
    *,
    budget: int = 6000,
    select: bool = False,
    refs: ReferenceIndex | None = None,
    index: ProjectIndex | None = None,
) -> Context:
    """The context built for the cursor at ``needle`` in ``relative`` (``select``: the needle
    selected), with the workspace's reference index."""
    if refs is None:
        index, refs = workspace_index(root)
    index = index or ProjectIndex([root])
    path = root / relative
    src = index.source(path, {})
    assert src is not None
    at = src.text.index(needle)
    _, context = gather_context(
        path,
        src,
        at,
        at + len(needle) if select else at,
        index=index,
        documents={},
        exclusions=Exclusions((root,)),
        budget=budget,
        references=refs,
    )
    return context
