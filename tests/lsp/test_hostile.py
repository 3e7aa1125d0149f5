"""Hostile and broken repositories: each way a clone, a config or a model reply could hang, crash
or misdirect the server, answered with a clear message and no stray edit."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

from lsprotocol import types

from tests.fakes.anthropic_api import FakeAnthropic, text_reply, tool_reply
from tests.helpers import make_project
from tests.lsp.editor import Editor, server_config
from tests.lsp.helpers import AT_ZERO, ROUTE, open_route


async def _titles(editor: Editor, uri: str, needle: str) -> list[str]:
    actions = await editor.code_actions(uri, editor.range_of(uri, needle, empty=True))
    return [action.title for action in actions]


async def _hover(editor: Editor, uri: str, needle: str) -> types.Hover | None:
    return await editor.client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=editor.range_of(uri, needle, empty=True).start,
        )
    )


async def _run(editor: Editor, uri: str, instruction: str = "change it") -> dict[str, object]:
    rng = editor.range_of(uri, "return rows[0]", empty=True)
    result = await editor.client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="subagent-lsp.ask",
            arguments=[{"uri": uri, "range": rng, "instruction": instruction}],
        )
    )
    assert isinstance(result, dict)
    return result


async def test_two_folders_with_the_same_file_edit_the_one_asked_about(
    tmp_path: Path, server_env: dict[str, str], fake_api: FakeAnthropic
) -> None:
    a, b = make_project(tmp_path / "A"), make_project(tmp_path / "B")
    (a / "src/routes/orders.ts").write_text(ROUTE, encoding="utf-8")
    client = await server_config(server_env).start()
    editor = Editor(client, b, "vscode")
    try:
        await editor.initialize(more_folders=[a])
        uri = open_route(editor)
        fake_api.enqueue(tool_reply([AT_ZERO]), text_reply("Done."))
        result = await _run(editor, uri)
        assert result["applied"] is True, result
        assert editor.text(uri) == ROUTE.replace("return rows[0];", "return rows.at(0);")
        assert (a / "src/routes/orders.ts").read_text(encoding="utf-8") == ROUTE
        prompt = json.dumps(fake_api.requests[0].body)
        # Paths in the folder of the file are relative; nothing names a file of the other one.
        assert "marked selection in `src/routes/orders.ts`" in prompt
    finally:
        await editor.shutdown()
        await client.stop()


async def test_a_yaml_alias_bomb_in_an_agent_file_is_refused_quickly(
    editor: Editor,
) -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]" for n in range(1, 10)]
    bomb = "---\n" + "\n".join(levels) + "\nname: *a9\ndescription: boom\n---\nYou explode.\n"
    path = editor.path(".claude/agents/bomb.md")
    path.write_text(bomb, encoding="utf-8")
    started = time.monotonic()
    reloaded = await editor.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="subagent-lsp.reloadAgents", arguments=[])
    )
    uri = editor.open(".claude/agents/bomb.md", language_id="markdown")
    route = open_route(editor)
    titles = await _titles(editor, route, "const rows")
    assert time.monotonic() - started < 20
    assert reloaded == 1 and titles
    diagnostics = await _diagnostics(editor, uri)
    assert any("alias" in d.message for d in diagnostics)


async def _diagnostics(editor: Editor, uri: str) -> list[types.Diagnostic]:
    for _ in range(200):
        found = editor.client.diagnostics.get(uri)
        if found:
            return list(found)
        await asyncio.sleep(0.05)
    return []


async def test_two_agents_with_one_name_say_which_wins(editor: Editor) -> None:
    twin = editor.path(".claude/agents/twin.md")
    twin.write_text(
        "---\nname: backend-engineer\ndescription: A second one.\n---\nYou are the twin.\n",
        encoding="utf-8",
    )
    await editor.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="subagent-lsp.reloadAgents", arguments=[])
    )
    diagnostics = await _diagnostics(editor, editor.uri(".claude/agents/twin.md"))
    assert diagnostics and "backend-engineer.md" in diagnostics[0].message


async def test_dense_export_star_cycles_answer_promptly(editor: Editor) -> None:
    barrels = editor.path("src/barrels")
    barrels.mkdir()
    for n in range(8):
        lines = [f'export * from "./b{m}.js";' for m in range(8) if m != n]
        (barrels / f"b{n}.ts").write_text("\n".join(lines) + "\n", encoding="utf-8")
    text = 'import { missing } from "./barrels/b0.js";\n' + ROUTE.replace(
        "return rows[0];", "return missing(rows);"
    )
    uri = open_route(editor, text)
    started = time.monotonic()
    assert await _titles(editor, uri, "return missing")
    assert await _hover(editor, uri, "missing(rows)") is None
    assert time.monotonic() - started < 10


async def test_a_lone_surrogate_in_a_document_still_gets_answers(editor: Editor) -> None:
    open_route(editor)
    # Typed into the buffer (a valid JSON escape), never on disk.
    uri = editor.uri("src/routes/orders.ts")
    editor.change(uri, ROUTE.replace("return rows[0];", 'return rows[0] ?? "\ud800";'))
    assert await _titles(editor, uri, "return rows[0]")
    hover = await _hover(editor, uri, 'app.get("/orders')
    assert hover is not None


async def test_a_nul_in_a_models_path_is_a_tool_error_and_the_rest_applies(
    editor: Editor, fake_api: FakeAnthropic
) -> None:
    uri = open_route(editor)
    fake_api.enqueue(
        tool_reply([{"command": "view", "path": "src/\u0000evil.ts"}, AT_ZERO]),
        text_reply("Done."),
    )
    result = await _run(editor, uri)
    assert result["applied"] is True, result
    answered = fake_api.requests[1].body["messages"][-1]["content"]
    assert answered[0]["is_error"] is True and "NUL" in answered[0]["content"]


async def test_a_uri_with_a_nul_is_refused_and_nothing_else_is_hurt(editor: Editor) -> None:
    bad = editor.uri("src/routes") + "/a%00b.ts"
    editor.client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=bad, language_id="typescript", version=1, text=ROUTE
            )
        )
    )
    uri = open_route(editor)
    assert await _titles(editor, uri, "const rows")
    assert await _hover(editor, uri, 'app.get("/orders') is not None


async def test_create_under_a_file_is_refused_when_the_model_asks(
    editor: Editor, fake_api: FakeAnthropic
) -> None:
    uri = open_route(editor)
    fake_api.enqueue(
        tool_reply([{"command": "create", "path": "package.json/evil.ts", "file_text": "x"}]),
        tool_reply([AT_ZERO]),
        text_reply("Done."),
    )
    result = await _run(editor, uri)
    assert result["applied"] is True, result
    answered = fake_api.requests[1].body["messages"][-1]["content"]
    assert answered[0]["is_error"] is True and "is a file" in answered[0]["content"]
    assert editor.path("package.json").is_file()


async def test_excluded_and_outside_files_never_reach_the_model(
    editor: Editor, fake_api: FakeAnthropic, tmp_path: Path
) -> None:
    modules = editor.path("node_modules/pkg")
    modules.mkdir(parents=True)
    (modules / "index.ts").write_text(ROUTE, encoding="utf-8")
    editor.path(".gitignore").write_text("ignored.ts\n", encoding="utf-8")
    editor.path("src/ignored.ts").write_text(ROUTE, encoding="utf-8")
    editor.path(".env.local.ts").write_text(ROUTE, encoding="utf-8")
    outside = tmp_path / "outside.ts"
    outside.write_text(ROUTE, encoding="utf-8")
    editor.path("src/link.ts").symlink_to(outside)
    for uri in [
        editor.uri("node_modules/pkg/index.ts"),
        editor.uri("src/ignored.ts"),
        editor.uri(".env.local.ts"),
        editor.uri("src/link.ts"),
        outside.as_uri(),
    ]:
        rng = {"start": {"line": 9, "character": 4}, "end": {"line": 9, "character": 4}}
        try:
            result = await editor.client.workspace_execute_command_async(
                types.ExecuteCommandParams(
                    command="subagent-lsp.ask",
                    arguments=[{"uri": uri, "range": rng, "instruction": "change it"}],
                )
            )
        except Exception as exc:  # the refusal arrives as an error response
            assert "excluded" in str(exc) or "outside" in str(exc), exc
        else:
            raise AssertionError(f"{uri} was not refused: {result}")
    assert fake_api.requests == []


async def test_a_huge_write_is_refused_and_tool_results_stay_small(
    editor: Editor, fake_api: FakeAnthropic
) -> None:
    uri = open_route(editor)
    huge = "x" * (3 * 1024 * 1024)
    fake_api.enqueue(
        tool_reply([{**AT_ZERO, "new_str": huge}]),
        tool_reply(
            [
                {
                    "command": "insert",
                    "path": "src/routes/orders.ts",
                    "insert_line": 1,
                    "new_str": "\n".join(["// note"] * 20_000),
                }
            ]
        ),
        text_reply("Done."),
    )
    result = await _run(editor, uri)
    assert result["applied"] is True, result
    first, second = (r.body["messages"][-1]["content"][0] for r in fake_api.requests[1:3])
    assert first["is_error"] is True and "too large" in first["content"]
    assert len(second["content"]) < 20_000


def test_a_package_json_with_a_bom_keeps_its_versions(project: Path) -> None:
    package = project / "package.json"
    package.write_text("\ufeff" + package.read_text(encoding="utf-8"), encoding="utf-8")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "subagent_lsp",
            "context",
            f"{project / 'src/routes/users.ts'}:10",
            "--root",
            str(project),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "- fastify" in done.stdout and "- drizzle-orm" in done.stdout
