"""The catalog of code actions an agent offers, and where each one makes sense.

Listing actions must be instant: everything here is decided from the syntax tree, never by the model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .agents import Agent
from .backend.code_facts import CodeFacts
from .syntax.comments import Instruction

ASK = "ask"
"""Action id for a free-form instruction (an instruction comment or an editor prompt)."""


@dataclass(frozen=True)
class Intent:
    id: str
    title: str
    instruction: str
    applies: Callable[[CodeFacts], bool]


def _validation(f: CodeFacts) -> bool:
    return (f.in_route and not f.route_has_schema) or (f.is_function_like and not f.uses_zod)


def _errors(f: CodeFacts) -> bool:
    return (f.is_function_like or f.has_await or f.in_route) and not f.has_try_catch


INTENTS: tuple[Intent, ...] = (
    Intent(
        "validate-input",
        "Add input validation with Zod",
        "Add input validation with Zod to this code: validate the request body, params and "
        "querystring (or the function's inputs) with Zod schemas, reuse the project's existing "
        "schemas where they fit, and reject invalid input with a 400 and a clear message.",
        _validation,
    ),
    Intent(
        "error-handling",
        "Add error handling with guard clauses",
        "Add error handling to this code with guard clauses and early returns: handle missing "
        "records, failed database calls and invalid states explicitly, with the right HTTP status "
        "codes, without swallowing errors.",
        _errors,
    ),
    Intent(
        "optimize-query",
        "Optimise this Drizzle query",
        "Optimise this Drizzle ORM query: select only the columns needed, avoid N+1 queries, make "
        "sure filters and sort orders can use an index (add one to the table definition if it is "
        "missing), and keep the result type the same for callers.",
        lambda f: f.has_db_query,
    ),
    Intent(
        "rest-conventions",
        "Follow REST conventions and status codes",
        "Make this route follow REST conventions: resource-oriented paths, correct HTTP methods and "
        "status codes (201 with the created resource, 204 for empty replies, 404 for missing "
        "records, 409 for conflicts) and a consistent response shape.",
        lambda f: f.in_route,
    ),
)

_BY_ID = {intent.id: intent for intent in INTENTS}


@dataclass(frozen=True)
class OfferedAction:
    agent: Agent
    action_id: str
    title: str
    instruction: str


def intent(action_id: str) -> Intent | None:
    return _BY_ID.get(action_id)


def offered_actions(
    agents: Sequence[Agent],
    default_agent: Agent,
    facts: CodeFacts,
    instruction: Instruction | None,
) -> list[OfferedAction]:
    """What to list for a selection: the instruction comment's action first, then fitting intents."""
    offered: list[OfferedAction] = []
    if instruction is not None:
        named = next((a for a in agents if a.name == instruction.agent), None)
        target = named if named is not None else default_agent
        if instruction.agent is None or named is not None:
            offered.append(
                OfferedAction(
                    target, ASK, f"Ask {target.name}: {_short(instruction.text)}", instruction.text
                )
            )
    for agent in agents:
        for item in INTENTS:
            if item.applies(facts):
                offered.append(
                    OfferedAction(agent, item.id, f"{agent.name}: {item.title}", item.instruction)
                )
    return offered


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
