"""What the fake model says in the real-editor tests: the same users.ts edit in every editor."""

from __future__ import annotations

from tests.fakes.anthropic_api import Reply, text_reply, tool_reply

SEND_LINE = "    return reply.send(created);"
SEND_201 = "    return reply.code(201).send(created);"


def answer_201() -> list[Reply]:
    """The agent's REST fix for POST /users: answer 201 Created."""
    return [
        tool_reply(
            [
                {
                    "command": "str_replace",
                    "path": "src/routes/users.ts",
                    "old_str": f"{SEND_LINE}\n",
                    "new_str": f"{SEND_201}\n",
                }
            ]
        ),
        text_reply("Answered 201 Created."),
    ]
