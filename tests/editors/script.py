"""What the real-editor tests share: the users.ts edit the fake model makes in every editor, and
running an editor's driver script until it writes down what it saw."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

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


def run_driver(
    command: list[str], *, env: dict[str, str], cwd: Path, timeout: float, result_file: Path
) -> dict[str, Any]:
    """Run a driver that writes its findings as JSON to ``result_file``; what it wrote, or a failed
    assertion carrying the driver's output when it wrote nothing."""
    done = subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result_file.exists(), f"{command[0]} wrote no result:\n{done.stdout}\n{done.stderr}"
    result: dict[str, Any] = json.loads(result_file.read_text(encoding="utf-8"))
    return result
