"""Random hostile workspaces: barrels that re-export one another, tsconfig files of every shape,
any mix of line endings, agent files built to hurt, odd folder names. Whatever the workspace,
every request is answered in time, memory stays bounded, and an edit lands in the file asked
about and nowhere else."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types

from tests.fakes.anthropic_api import FakeAnthropic, text_reply, tool_reply
from tests.helpers import make_project
from tests.lsp.editor import Editor, server_config
from tests.lsp.helpers import ROUTE

pytestmark = pytest.mark.heavy

ANSWER = 30.0
RSS_LIMIT_MB = 400

_BOMB_LEVELS = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"] + [
    f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]" for n in range(1, 10)
]
AGENTS = {
    "valid": "---\nname: helper\ndescription: Helps.\n---\nYou help.\n",
    "alias bomb": "---\n" + "\n".join(_BOMB_LEVELS) + "\nname: *a9\ndescription: x\n---\nBoom.\n",
    "deep": "---\nname: deep\ndescription: " + "[" * 5000 + "]" * 5000 + "\n---\nDeep.\n",
    "huge": "---\nname: huge\ndescription: " + "x" * 200_000 + "\n---\nHuge.\n",
    "same name": "---\nname: backend-engineer\ndescription: Twin.\n---\nTwin.\n",
    "not yaml": "---\nname: [unclosed\n---\nBody.\n",
}
TSCONFIGS: dict[str, Any] = {
    "valid": {"compilerOptions": {"baseUrl": ".", "paths": {"@/*": ["src/*"]}}},
    "list": [],
    "null": None,
    "string paths": {"compilerOptions": {"paths": "src/*"}},
    "bom": "\ufeff" + json.dumps({"compilerOptions": {"strict": True}}),
    "deep extends": "deep",
    "outside": {"extends": "../../outside.json"},
    "broken": "{ not json",
}
ENDINGS = {
    "LF": lambda text: text,
    "CRLF": lambda text: text.replace("\n", "\r\n"),
    "CR": lambda text: text.replace("\n", "\r"),
    "mixed": lambda text: "".join(
        line + ("\r\n" if n % 2 else "\n") for n, line in enumerate(text.split("\n")[:-1])
    ),
}
FOLDERS = ["plain", "My Project", "projéct", "a#b", "a[b]", "項目"]

WORKSPACES = st.fixed_dictionaries(
    {
        "folder": st.sampled_from(FOLDERS),
        "barrels": st.integers(2, 8),
        "edges": st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7)), max_size=40),
        "tsconfig": st.sampled_from(sorted(TSCONFIGS)),
        "ending": st.sampled_from(sorted(ENDINGS)),
        "agent": st.sampled_from(sorted(AGENTS)),
        "preset": st.sampled_from(["neovim", "vscode"]),
    }
)


def _build(tmp: Path, spec: dict[str, Any]) -> Path:
    root = tmp / spec["folder"]
    if root.exists():
        shutil.rmtree(root)
    make_project(root)
    (root / ".claude" / "agents" / "hostile.md").write_text(AGENTS[spec["agent"]], encoding="utf-8")
    barrels = root / "src" / "barrels"
    barrels.mkdir()
    count = spec["barrels"]
    links = {(a % count, b % count) for a, b in spec["edges"] if a % count != b % count}
    for n in range(count):
        lines = [f'export * from "./b{m}.js";' for a, m in sorted(links) if a == n]
        if n == count - 1:
            lines.append("export const leaf = (x: number) => x + 1;")
        (barrels / f"b{n}.ts").write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = TSCONFIGS[spec["tsconfig"]]
    tsconfig = root / "tsconfig.json"
    if config == "deep":
        for n in range(60):
            (root / f"c{n}.json").write_text(json.dumps({"extends": f"./c{n + 1}.json"}))
        tsconfig.write_text(json.dumps({"extends": "./c0.json"}), encoding="utf-8")
    elif isinstance(config, str):
        tsconfig.write_text(config, encoding="utf-8")
    else:
        tsconfig.write_text(json.dumps(config), encoding="utf-8")
    (tmp / "outside.json").write_text(json.dumps({"compilerOptions": {"leak": 1}}))
    route = 'import { leaf } from "../barrels/b0.js";\n' + ROUTE.replace(
        "return rows[0];", "return leaf(rows.length) && rows[0];"
    )
    (root / "src" / "routes" / "orders.ts").write_bytes(ENDINGS[spec["ending"]](route).encode())
    return root


def _snapshot(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


async def _session(
    tmp: Path, env: dict[str, str], api: FakeAnthropic, spec: dict[str, Any]
) -> None:
    root = _build(tmp, spec)
    client = await server_config(env).start()
    editor = Editor(client, root, spec["preset"])
    try:
        # Static hovers: an explanation made in the background would take the scripted replies.
        await asyncio.wait_for(editor.initialize({"hoverMode": "static"}), ANSWER)
        text = (root / "src/routes/orders.ts").read_bytes().decode()
        uri = editor.open("src/routes/orders.ts", text)
        for needle in ("const rows", "return leaf", "leaf(rows", 'app.get("/orders'):
            rng = editor.range_of(uri, needle, empty=True)
            await asyncio.wait_for(editor.code_actions(uri, rng), ANSWER)
            await asyncio.wait_for(
                client.text_document_hover_async(
                    types.HoverParams(
                        text_document=types.TextDocumentIdentifier(uri=uri), position=rng.start
                    )
                ),
                ANSWER,
            )
        before = _snapshot(root)
        api.enqueue(
            tool_reply(
                [
                    {"command": "view", "path": "src/barrels/b0.ts"},
                    {
                        "command": "str_replace",
                        "path": "src/routes/orders.ts",
                        "old_str": "const { id } = request.params as { id: string };",
                        "new_str": "const { id } = request.params as { id: string }; // checked",
                    },
                ]
            ),
            text_reply("Done."),
        )
        rng = editor.range_of(uri, "const rows", empty=True)
        result = await asyncio.wait_for(
            client.workspace_execute_command_async(
                types.ExecuteCommandParams(
                    command="subagent-lsp.ask",
                    arguments=[{"uri": uri, "range": rng, "instruction": "mark it"}],
                )
            ),
            ANSWER,
        )
        api.clear()
        assert result["applied"] is True, result
        assert editor.text(uri) == text.replace(
            "request.params as { id: string };", "request.params as { id: string }; // checked"
        )
        # Nothing else on disk changed (the open document is changed through the editor).
        assert _snapshot(root) == before
        assert _rss_mb(client._server.pid) < RSS_LIMIT_MB  # type: ignore[union-attr]
    finally:
        await editor.shutdown()
        await client.stop()


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=WORKSPACES)
def test_hostile_workspaces_are_answered_and_edited_only_where_asked(
    tmp_path: Path, server_env: dict[str, str], fake_api: FakeAnthropic, spec: dict[str, Any]
) -> None:
    fake_api.clear()
    asyncio.run(_session(tmp_path, server_env, fake_api, spec))
