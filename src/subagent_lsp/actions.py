"""The catalog of code actions an agent offers, and where each one makes sense.

Listing actions must be instant: everything here is decided from the syntax tree, never by the model.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

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
    # In a route, the route's own facts decide: validation may live in a hook or the handler.
    if f.in_route:
        return bool(f.route_unvalidated)
    return f.is_function_like and not f.uses_zod


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

TIGHTEN_SCHEMA = Intent(
    "tighten-schema",
    "Tighten this Zod schema",
    "Tighten this Zod schema: coerce query and path values that arrive as strings, bound numbers "
    "and string lengths, use the right formats (email, uuid, url, datetime), make optional only "
    "what may really be missing, and reject unknown keys with `.strict()` where the input is a "
    "request body.",
    lambda f: f.uses_zod and not f.in_route and not f.has_db_query,
)
REVIEW = Intent(
    "review",
    "Review",
    "Review this code as a senior backend engineer would before it ships: correctness, input "
    "validation, error handling, security, query performance and the project's conventions. Do "
    "not change any file. Report each finding with the file and line it is about, how serious it "
    "is, and what to change.",
    lambda f: True,
)
_BY_ID = {intent.id: intent for intent in (*INTENTS, TIGHTEN_SCHEMA, REVIEW)}
MAX_MENU = 8
"""Entries at most, the instruction comment's included: a menu, not a list of every agent."""

# What a backend TypeScript agent's description and prompt tend to say, and what other agents'
# do: Claude Code, too, chooses a subagent by its description.
_BACKEND = re.compile(
    r"\b(backend|back-end|api|apis|endpoint|server|fastify|drizzle|zod|trpc|orm|sql|database|"
    r"postgres|mysql|sqlite|typescript|node(?:\.js)?|route|handler|migration|schema)s?\b",
    re.IGNORECASE,
)
_OTHER = re.compile(
    r"\b(frontend|front-end|ui|ux|react|vue|css|tailwind|browser|playwright|puppeteer|"
    r"web ?search|research|researcher|docs? writer|marketing|design(?:er)?)\b",
    re.IGNORECASE,
)
_PROACTIVE = re.compile(r"use (this agent )?proactively|must be used", re.IGNORECASE)


@dataclass(frozen=True)
class OfferedAction:
    agent: Agent
    action_id: str
    title: str
    instruction: str


def intent(action_id: str) -> Intent | None:
    return _BY_ID.get(action_id)


def fit(agent: Agent) -> int:
    """How well an agent fits backend TypeScript work, from its description and prompt."""
    return _fit(agent.description, agent.prompt[:4000])


@lru_cache(maxsize=256)
def _fit(description: str, prompt: str) -> int:
    # Listing actions ranks the agents every time; their files change rarely.
    score = 3 * len(set(m.lower() for m in _BACKEND.findall(description)))
    score += len(set(m.lower() for m in _BACKEND.findall(f"{description}\n{prompt}")))
    score -= 4 * len(set(m.lower() for m in _OTHER.findall(description)))
    score += 2 if _PROACTIVE.search(description) else 0
    return score


def ranked(agents: Sequence[Agent]) -> list[Agent]:
    """Best fit first; an agent that can edit before one that cannot, at equal fit."""
    return sorted(agents, key=lambda a: (-fit(a), a.capabilities.read_only))


def offered_actions(
    agents: Sequence[Agent],
    default_agent: Agent,
    facts: CodeFacts,
    instruction: Instruction | None,
    shown: Sequence[str] = (),
) -> list[OfferedAction]:
    """What to list for a selection: the instruction comment's action first, then the intents
    of the agents shown (by default the best editing agent, and the best reviewer if it is
    another), at most `MAX_MENU` entries. ``shown`` names agents to show instead, or is
    `("all",)`; agents left out stay reachable by name (an `@name:` comment, "Ask agent…")."""
    offered: list[OfferedAction] = []
    if instruction is not None:
        named = next((a for a in agents if a.name == instruction.agent), None)
        target = named if named is not None else default_agent
        if instruction.agent is None or named is not None:
            title = f"Ask {target.name}: {headline(instruction.text)}"
            offered.append(OfferedAction(target, ASK, title, instruction.text))
    menu = _menu_agents(agents, shown)
    for agent in menu:
        fitting = [item for item in INTENTS if item.applies(facts)]
        if TIGHTEN_SCHEMA.applies(facts):
            fitting.append(TIGHTEN_SCHEMA)
        if agent.capabilities.read_only or not fitting:
            # A read-only agent reviews; code no intent fits still gets a review.
            fitting = [REVIEW]
        for item in fitting:
            title = _title(item, agent, alone=len(menu) == 1)
            offered.append(OfferedAction(agent, item.id, title, item.instruction))
    return offered[:MAX_MENU]


def _title(item: Intent, agent: Agent, *, alone: bool) -> str:
    """A review names its agent; an intent names it only when several agents share the menu,
    else it reads "Agent: ..." so that it is told apart from the editor's own actions."""
    if item is REVIEW:
        return f"Review with {agent.name}"
    return f"Agent: {item.title}" if alone else f"{agent.name}: {item.title}"


def _menu_agents(agents: Sequence[Agent], shown: Sequence[str]) -> list[Agent]:
    if tuple(shown) == ("all",):
        return list(agents)
    if shown:
        return [agent for agent in agents if agent.name in shown]
    best = ranked(agents)
    editor = next((a for a in best if not a.capabilities.read_only), None)
    reviewer = next((a for a in best if a.capabilities.read_only and fit(a) > 0), None)
    return [agent for agent in (editor, reviewer) if agent is not None] or best[:1]


def headline(text: str, limit: int = 60) -> str:
    """An instruction as a title: on one line, cut to fit."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
