"""The `initialize` answer given while the server loads must be the one the server would give.

pygls builds the server's capabilities from its registered features and the client's own
capabilities; the early answer is written out by hand, so it is compared here with what pygls
builds for the real server, for every editor pytest-lsp has recorded and for odd clients.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest
from pygls.capabilities import ServerCapabilitiesBuilder
from pygls.protocol import default_converter

from subagent_lsp import __version__
from subagent_lsp.early import initialize_result
from subagent_lsp.server import server

_converter = default_converter()


def _recorded_clients() -> dict[str, dict[str, Any]]:
    folder = resources.files("pytest_lsp") / "clients"
    return {
        entry.name.removesuffix(".json"): json.loads(entry.read_text(encoding="utf-8"))[
            "capabilities"
        ]
        for entry in folder.iterdir()
        if entry.name.endswith(".json")
    }


_ODD_CLIENTS: dict[str, dict[str, Any]] = {
    "nothing": {},
    "utf-8 first": {"general": {"positionEncodings": ["utf-8", "utf-16"]}},
    "utf-32 only": {"general": {"positionEncodings": ["utf-32"]}},
    "unknown encodings": {"general": {"positionEncodings": ["ebcdic", "utf-7"]}},
    "encodings not a list": {"general": {"positionEncodings": "utf-8"}},
    "empty general": {"general": {}},
    "will save": {"textDocument": {"synchronization": {"willSave": True}}},
    "will save wait until off": {
        "textDocument": {"synchronization": {"willSaveWaitUntil": False, "didSave": True}}
    },
    "notebooks": {"notebookDocument": {"synchronization": {"dynamicRegistration": True}}},
    "file operations": {"workspace": {"fileOperations": {"didRename": True, "willCreate": True}}},
}
CLIENTS = {**_recorded_clients(), **_ODD_CLIENTS}


def _pygls_answer(client: dict[str, Any]) -> dict[str, Any]:
    """What pygls's `initialize` computes for the server as registered (see lsp_initialize)."""
    from lsprotocol import types

    caps = _converter.structure(client, types.ClientCapabilities)
    features = server.protocol.fm
    built = ServerCapabilitiesBuilder(
        caps,
        {*features.features, *features.builtin_features},
        features.feature_options,
        list(features.commands),
        server._text_document_sync_kind,
        server._notebook_document_sync,
        ServerCapabilitiesBuilder.choose_position_encoding(caps),
    ).build()
    result = types.InitializeResult(capabilities=built, server_info=server.protocol.server_info)
    answer: dict[str, Any] = _converter.unstructure(result)
    return answer


def test_every_recorded_editor_is_covered() -> None:
    assert {"neovim_v0.11.0", "visual_studio_code_v1.65.2"} <= CLIENTS.keys()


@pytest.mark.parametrize("name", sorted(CLIENTS))
def test_the_early_answer_is_the_servers_own(name: str) -> None:
    assert initialize_result(CLIENTS[name]) == _pygls_answer(CLIENTS[name])


def test_it_names_the_server_and_the_encoding_the_client_prefers() -> None:
    result = initialize_result({"general": {"positionEncodings": ["utf-32", "utf-8"]}})
    assert result["serverInfo"] == {"name": "subagent-lsp", "version": __version__}
    assert result["capabilities"]["positionEncoding"] == "utf-32"
