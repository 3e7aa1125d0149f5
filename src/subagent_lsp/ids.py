"""The names the server and its editor packages share: command ids and the code action kind.

Standard library only (nothing at all, in fact), so that `early.py` can announce them before the
protocol types load; every other module takes them from here.
"""

from __future__ import annotations

CODE_ACTION_KIND = "refactor.rewrite.agent"
QUICK_FIX_KIND = "quickfix"
"""A review finding's "Fix with AGENT"."""
CODE_ACTION_KINDS = (CODE_ACTION_KIND, QUICK_FIX_KIND)

RUN_ACTION = "subagent-lsp.runAction"
"""Run a listed code action: {uri, range, agent, action, instruction?}."""
ASK = "subagent-lsp.ask"
"""Run a free-form instruction on a range, for editor plugins that prompt: {uri, range, instruction, agent?}."""
EXPLAIN = "subagent-lsp.explain"
"""Explain the code at a position and cache it: {uri, position, agent?, refresh?}."""
LIST_AGENTS = "subagent-lsp.listAgents"
"""The agents found, for pickers: [{name, description, model, source, path, default}]."""
RELOAD_AGENTS = "subagent-lsp.reloadAgents"
STATUS = "subagent-lsp.status"
"""What the server is doing: {version, agents, agentFiles, agentFolders, openDocuments,
runningActions, runningExplanations, pendingChanges, modelSdk ("not loaded", "loading", "loaded"), tasks}."""

ACCEPT_EDIT = "subagent-lsp.acceptEdit"
"""Apply a change waiting for review: [id]; answers {applied, message, files}."""
DISCARD_EDIT = "subagent-lsp.discardEdit"
"""Drop a change waiting for review: [id]; answers {discarded, message}."""

REVIEW_EDIT = "subagent-lsp/reviewEdit"
"""Server -> client notification, to clients that announce experimental.subagentLsp.reviewEdits:
{id, label, agent, summary, files: [{uri, path, original (null for a new file), proposed}]}."""

COMMANDS = (
    EXPLAIN,
    RUN_ACTION,
    ASK,
    ACCEPT_EDIT,
    DISCARD_EDIT,
    LIST_AGENTS,
    RELOAD_AGENTS,
    STATUS,
)
"""In the order the server registers them, which is the order `initialize` announces them."""
