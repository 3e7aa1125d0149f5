"""Hover through the protocol: instant facts, the agent's explanation, its cache and cancellation."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from lsprotocol import types

from tests.fakes.anthropic_api import FakeAnthropic, error_reply, text_reply
from tests.lsp.editor import Editor, server_config, wait_until


async def _hover(editor: Editor, uri: str, needle: str, delta: int = 0) -> str | None:
    rng = editor.range_of(uri, needle, empty=True)
    position = types.Position(line=rng.start.line, character=rng.start.character + delta)
    result = await editor.client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=position)
    )
    if result is None:
        return None
    assert isinstance(result.contents, types.MarkupContent)
    assert result.contents.kind == types.MarkupKind.Markdown
    return result.contents.value


def _static(editor: Editor) -> None:
    editor.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"subagentLsp": {"hover": {"mode": "static"}}})
    )


async def _explained(editor: Editor, uri: str, needle: str, delta: int = 0) -> str | None:
    """Hover, wait until the server says the explanation is ready, and hover again."""
    seen = len(editor.explained)
    first = await _hover(editor, uri, needle, delta)
    assert first is not None and "explanation is on the way" in first, first
    await wait_until(lambda: len(editor.explained) > seen, timeout=30)
    return await _hover(editor, uri, needle, delta)


async def test_a_route_hover_shows_its_validation_hooks_and_handler(editor: Editor) -> None:
    _static(editor)
    uri = editor.open("src/routes/users.ts")
    text = await _hover(editor, uri, 'app.post("/users"', 4)
    assert text == (
        "**POST /users** · Fastify route\n"
        # The plugin is registered with `prefix: "/api"` in the app file.
        "- served at: `POST /api/users` (with the prefixes it is mounted under)\n"
        "- validation: no schema; missing: body\n"
        "- response schema: none\n"
        "- hooks: none\n"
        "- handler: inline async function, lines 28–35"
    )
    text = await _hover(editor, uri, '"/users/:id", { schema', 2)
    assert text is not None
    assert "- validation: params ✓ (route schema, handler parses `userParams`)\n" in text


async def test_a_table_hover_shows_columns_indexes_and_relations(editor: Editor) -> None:
    _static(editor)
    uri = editor.open("src/routes/users.ts")
    text = await _hover(editor, uri, "users.createdAt", 2)
    assert text is not None
    assert text.startswith(
        '**users** · Drizzle `pgTable` table `"users"` · defined in `src/db/schema.ts:14`'
    )
    assert "| email | varchar(320) | not null |" in text
    assert "| createdAt | timestamp | not null, default now() |" in text
    assert "- indexes: users_email_idx (unique) on email" in text
    assert "- relations: posts: many(posts), comments: many(comments)" in text


async def test_a_query_hover_says_which_filters_an_index_covers(editor: Editor) -> None:
    _static(editor)
    uri = editor.open("src/routes/posts.ts")
    text = await _hover(editor, uri, "const rows = await db", 20)
    assert text == (
        "**Drizzle query** · select\n"
        "- tables: `posts`\n"
        # In the order the code adds them.
        "- filters: `posts.status` ✗ no index, `posts.authorId` ✓ index posts_author_idx\n"
        "- order by: `posts.publishedAt` ✗ no index"
    )
    text = await _hover(editor, uri, "db.query.posts", 4)
    assert text is not None and "- filters: `posts.id` ✓ primary key" in text


async def test_a_zod_hover_summarises_the_shape(editor: Editor) -> None:
    _static(editor)
    uri = editor.open("src/routes/posts.ts")
    text = await _hover(editor, uri, "listPostsQuery.parse", 3)
    assert text == (
        "**listPostsQuery** · Zod schema · defined in `src/schemas/post.ts:21`\n"
        "- built from `paginationQuery`\n"
        '- + status: enum(["draft", "published"]) optional\n'
        "- + authorId: coerced number (int, positive) optional"
    )


async def test_hover_elsewhere_answers_nothing_and_calls_no_model(
    editor: Editor, fake_api: FakeAnthropic
) -> None:
    uri = editor.open("src/routes/posts.ts")
    assert await _hover(editor, uri, "function slugify", 3) is None
    assert await _hover(editor, uri, "\n\nexport async function postRoutes", 1) is None
    assert await _hover(editor, uri, "const result = []", 8) is None
    assert fake_api.requests == []


async def test_the_explanation_follows_the_facts_and_is_cached(
    editor: Editor, fake_api: FakeAnthropic
) -> None:
    uri = editor.open("src/routes/posts.ts")
    fake_api.enqueue(text_reply("Lists posts. Risk: N+1 author lookups. Use a join."))

    first = await _explained(editor, uri, "const rows = await db", 20)
    second = await _hover(editor, uri, "const rows = await db", 19)

    assert first is not None and first.startswith("**Drizzle query** · select")
    assert first.endswith(
        "---\n**backend-engineer:** Lists posts. Risk: N+1 author lookups. Use a join."
    )
    assert second == first
    (request,) = fake_api.requests
    assert request.body["model"] == "claude-haiku-5-5"
    assert "tools" not in request.body
    assert request.body["system"][-1]["cache_control"] == {"type": "ephemeral"}
    prompt = "\n".join(b["text"] for b in request.body["messages"][0]["content"])
    assert "### `posts` from `src/db/schema.ts`" in prompt


async def test_an_edit_to_the_code_or_its_context_invalidates_the_explanation(
    editor: Editor, fake_api: FakeAnthropic
) -> None:
    uri = editor.open("src/routes/posts.ts")
    schema = editor.open("src/db/schema.ts")
    fake_api.enqueue(text_reply("First."), text_reply("Second."))
    assert (await _explained(editor, uri, "const rows = await db", 20) or "").endswith("First.")

    editor.change(
        schema, editor.text(schema).replace('index("posts_author_idx")', 'index("by_author")')
    )

    again = await _explained(editor, uri, "const rows = await db", 20)
    assert again is not None and again.endswith("Second.")
    assert "✓ index by_author" in again
    assert len(fake_api.requests) == 2


async def test_facts_never_wait_for_the_model(editor: Editor, fake_api: FakeAnthropic) -> None:
    uri = editor.open("src/routes/posts.ts")
    hold = threading.Event()
    fake_api.enqueue(text_reply("At last.", hold=hold))
    try:
        # The model has not answered, and will not until released: the facts come anyway.
        text = await asyncio.wait_for(_hover(editor, uri, "const rows = await db", 20), 30)
        assert text is not None and text.startswith("**Drizzle query** · select")
        assert text.endswith(
            "_backend-engineer's explanation is on the way; hover again in a moment._"
        )
        # The first explanation loads the model SDK first: seconds on a busy machine.
        await fake_api.wait_for_requests_async(1, timeout=60)
        assert editor.explained == []
    finally:
        hold.set()
    await wait_until(lambda: len(editor.explained) == 1, timeout=30)
    (ready,) = editor.explained
    assert (ready.uri if hasattr(ready, "uri") else ready["uri"]) == uri
    text = await _hover(editor, uri, "const rows = await db", 20)
    assert text is not None and text.endswith("**backend-engineer:** At last.")
    assert len(fake_api.requests) == 1


async def test_a_newer_hover_cancels_the_explanation_in_flight(
    editor: Editor, fake_api: FakeAnthropic
) -> None:
    uri = editor.open("src/routes/posts.ts")
    hold = threading.Event()
    fake_api.enqueue(text_reply("slow " * 30, hold=hold), text_reply("The schema."))
    try:
        await _hover(editor, uri, "const rows = await db", 20)
        # The first explanation loads the model SDK first: seconds on a busy machine.
        await fake_api.wait_for_requests_async(1, timeout=60)
        await _hover(editor, uri, "listPostsQuery.parse", 3)
        assert await fake_api.wait_for_disconnect_async(timeout=30)
    finally:
        hold.set()
    await wait_until(lambda: len(editor.explained) >= 1, timeout=30)
    text = await _hover(editor, uri, "listPostsQuery.parse", 3)
    assert text is not None and text.endswith("The schema.")


async def test_a_burst_of_hovers_keeps_one_model_request_in_flight(
    editor: Editor, fake_api: FakeAnthropic
) -> None:
    uri = editor.open("src/routes/posts.ts")
    holds = [threading.Event() for _ in range(3)]
    fake_api.enqueue(*[text_reply(f"Explanation {n}.", hold=h) for n, h in enumerate(holds)])
    targets = [("const rows = await db", 20), ("db.query.posts", 4), ("listPostsQuery.parse", 3)]
    try:
        for n, (needle, delta) in enumerate(targets):
            await _hover(editor, uri, needle, delta)
            await fake_api.wait_for_requests_async(n + 1, timeout=60)
            if n:
                # The newer hover has closed the older one's connection before its own ran long.
                await asyncio.to_thread(lambda k=n: _wait_disconnects(fake_api, k))
        holds[-1].set()
        await wait_until(lambda: len(editor.explained) >= 1, timeout=30)
    finally:
        for hold in holds:
            hold.set()
    last = await _hover(editor, uri, *targets[-1])
    assert last is not None and last.endswith("Explanation 2.")
    assert fake_api.disconnects == 2
    first = await _hover(editor, uri, *targets[0])
    assert first is not None and "Explanation" not in first


def _wait_disconnects(api: FakeAnthropic, count: int) -> None:
    import time

    deadline = time.monotonic() + 10
    while api.disconnects < count:
        assert time.monotonic() < deadline, "the older hover's request was not closed"
        time.sleep(0.02)


async def test_a_failed_explanation_still_shows_the_facts(
    editor: Editor, fake_api: FakeAnthropic
) -> None:
    uri = editor.open("src/routes/users.ts")
    fake_api.enqueue(error_reply(401, "authentication_error", "invalid x-api-key"))
    text = await _explained(editor, uri, 'app.post("/users"', 4)
    assert text is not None and text.startswith("**POST /users** · Fastify route")
    assert "_No explanation: The Anthropic API rejected the API key (401)" in text


async def test_explain_action_fills_the_cache_and_regenerate_refreshes_it(
    editor: Editor, fake_api: FakeAnthropic
) -> None:
    uri = editor.open("src/routes/users.ts")
    fake_api.enqueue(text_reply("Creates a user without validation."), text_reply("Fresh take."))
    rng = editor.range_of(uri, 'app.post("/users"', empty=True)
    actions = await editor.code_actions(uri, rng)
    explain = next(a for a in actions if a.title == "Explain with backend-engineer")
    assert not any(a.title == "Regenerate explanation" for a in actions)

    result = await editor.run(explain)

    assert result["markdown"].endswith("Creates a user without validation.")
    assert (await _hover(editor, uri, 'app.post("/users"', 4) or "").endswith("without validation.")
    assert len(fake_api.requests) == 1
    actions = await editor.code_actions(uri, rng)
    regenerate = next(a for a in actions if a.title == "Regenerate explanation")
    await editor.run(regenerate)
    assert (await _hover(editor, uri, 'app.post("/users"', 4) or "").endswith("Fresh take.")
    assert len(fake_api.requests) == 2


async def test_without_a_key_hover_shows_the_facts_and_how_to_enable_explanations(
    project: Path, home: Path, fake_api: FakeAnthropic
) -> None:
    client = await server_config({"HOME": str(home)}).start()
    editor = Editor(client, project, "vscode")
    try:
        await editor.initialize()
        uri = editor.open("src/routes/users.ts")
        text = await _hover(editor, uri, 'app.post("/users"', 4)
        assert text is not None and text.startswith("**POST /users** · Fastify route")
        assert text.endswith(
            "_Set ANTHROPIC_API_KEY or the subagentLsp.apiKey setting to add backend-engineer's "
            "explanation here._"
        )
        assert fake_api.requests == []
    finally:
        await editor.shutdown()
        await client.stop()


async def test_hover_mode_off_answers_nothing(editor: Editor) -> None:
    editor.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"subagentLsp": {"hoverMode": "off"}})
    )
    uri = editor.open("src/routes/users.ts")
    assert await _hover(editor, uri, 'app.post("/users"', 4) is None
