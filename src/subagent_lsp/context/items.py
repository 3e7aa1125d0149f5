"""The context as the model gets it: items, the token budget, and the Markdown they render to."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from ..syntax.source import SourceFile

Form = Literal["full", "short", "omitted"]


def estimate_tokens(text: str) -> int:
    # About four characters a token for code; the budget is a guide, not an exact count.
    return (len(text) + 3) // 4


@dataclass(frozen=True)
class ContextItem:
    priority: int
    kind: Literal[
        "selection", "imports", "definition", "local", "project", "usage", "augmentation", "sibling"
    ]
    path: str
    symbol: str | None
    reason: str
    text: str
    short: str | None
    language: str = "ts"
    distance: int = 0
    """How far from the selection: 0 its file, 1 what it names or what names it, 2 one more."""

    @property
    def tokens(self) -> int:
        return estimate_tokens(self.text)

    @property
    def short_tokens(self) -> int | None:
        return estimate_tokens(self.short) if self.short is not None else None


def cost_of(item: ContextItem, form: Form) -> int:
    if form == "full":
        return item.tokens
    if form == "short":
        return item.short_tokens or 0
    return 0


@dataclass(frozen=True)
class Context:
    items: tuple[tuple[ContextItem, Form], ...]
    budget: int
    notes: tuple[str, ...] = ()
    """What could not be looked at yet (the reference index still being built)."""
    packages: tuple[Path, ...] = ()
    """The folders of the other workspace packages whose code the selection names."""

    @property
    def used_tokens(self) -> int:
        return sum(cost_of(item, form) for item, form in self.items)

    def included(self) -> list[tuple[ContextItem, str]]:
        out: list[tuple[ContextItem, str]] = []
        for item, form in self.items:
            if form == "full":
                out.append((item, item.text))
            elif form == "short" and item.short is not None:
                out.append((item, item.short))
        return out

    def left_out(self) -> list[tuple[ContextItem, Form]]:
        return [(item, form) for item, form in self.items if form != "full"]

    def render(self) -> str:
        """The context as Markdown for the model."""
        sections: list[str] = []
        project = [text for item, text in self.included() if item.kind == "project"]
        if project:
            sections.append("## Project\n" + "\n".join(project))
        for item, text in self.included():
            if item.kind == "project":
                continue
            if item.kind == "selection":
                heading = f"## File `{item.path}`\n{item.reason}:"
            elif item.kind == "imports":
                heading = f"Imports of `{item.path}`:"
            elif item.kind in ("usage", "augmentation", "sibling"):
                heading = f"### In `{item.path}`\n{item.reason}."
            else:
                shortened = " (signature only)" if text is item.short else ""
                heading = f"### `{item.symbol}` from `{item.path}`{shortened}\n{item.reason}."
            fence = _fence(text)
            sections.append(f"{heading}\n{fence}{item.language}\n{text}\n{fence}")
        left_out = self.left_out()
        if left_out:
            lines = [
                f"- `{item.symbol or item.kind}` from `{item.path}`"
                + (" (shortened to its signature)" if form == "short" else "")
                for item, form in left_out
            ]
            sections.append(
                "## Left out to fit the context budget\nYou can `view` these files if you need "
                "them:\n" + "\n".join(lines)
            )
        if self.notes:
            sections.append("## Not included yet\n" + "\n".join(f"- {n}" for n in self.notes))
        return "\n\n".join(sections)

    def to_json(self) -> dict[str, Any]:
        return {
            "budget": self.budget,
            "used_tokens": self.used_tokens,
            "notes": list(self.notes),
            "items": [
                {
                    **{k: v for k, v in asdict(item).items() if k not in ("text", "short")},
                    "tokens": item.tokens,
                    "short_tokens": item.short_tokens,
                    "included": form,
                }
                for item, form in self.items
            ],
        }


def excerpt(src: SourceFile, spans: tuple[tuple[int, int], ...]) -> str:
    """The lines of the spans with 1-based numbers, `…` where lines are skipped."""
    ranges: list[list[int]] = []
    for start, end in sorted(spans):
        first, last = src.line_of(start), src.line_of(max(end - 1, start))
        if ranges and first <= ranges[-1][1] + 1:
            ranges[-1][1] = max(ranges[-1][1], last)
        else:
            ranges.append([first, last])
    width = len(str(ranges[-1][1] + 1)) if ranges else 1
    out: list[str] = []
    for first, last in ranges:
        if out:
            out.append(" " * width + "| …")
        for line in range(first, last + 1):
            start, end = src.line_span(line)
            out.append(f"{line + 1:>{width}}| {src.text[start:end]}")
    return "\n".join(out)


def _fence(code: str) -> str:
    fence = "```"
    while fence in code:
        fence += "`"
    return fence


def fit(items: list[ContextItem], budget: int, notes: tuple[str, ...] = ()) -> Context:
    """Fit the items to the budget, by rank (priority, then the distance from the selection,
    then the order they were gathered in).

    1. An oversized item (more than a quarter of the budget) is shortened first, lowest rank
       first: one 20,000-token class would otherwise push out every item ranked below it before
       its own turn to be shortened came.
    2. Then the lowest ranks are shortened, then left out, until the items fit.
    3. Then what was shortened or left out is put back, highest rank first, in full or else
       shortened, wherever it still fits: leaving out one large item may leave room for several
       small ones ranked below it.
    The selection is never shortened here (it is cut to the lines around it when gathered).
    """
    forms: list[Form] = ["full"] * len(items)
    used = sum(item.tokens for item in items)

    def change(index: int, form: Form) -> None:
        nonlocal used
        used += cost_of(items[index], form) - cost_of(items[index], forms[index])
        forms[index] = form

    # Lowest rank first; within a priority the farthest, then the item gathered last.
    order = sorted(range(len(items)), key=lambda i: (-items[i].priority, -items[i].distance, -i))
    movable = [i for i in order if items[i].kind != "selection"]
    for index in movable:
        if used <= budget:
            break
        item = items[index]
        if item.tokens > budget // 4 and item.short is not None:
            change(index, "short")
    for index in movable:
        if used <= budget:
            break
        if forms[index] == "full" and items[index].short is not None:
            change(index, "short")
            if used <= budget:
                break
        change(index, "omitted")
    for index in reversed(movable):
        current = forms[index]
        if current == "full":
            continue
        options: tuple[Form, ...] = ("full", "short") if current == "omitted" else ("full",)
        for form in options:
            if form == "short" and items[index].short is None:
                continue
            if used - cost_of(items[index], current) + cost_of(items[index], form) <= budget:
                change(index, form)
                break
    return Context(tuple(zip(items, forms, strict=True)), budget, notes)
