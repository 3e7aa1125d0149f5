"""What one TypeScript file imports and exports, read from its text with anchored regular
expressions rather than parsed (`references.py` reads every file of the workspace with it), and
how it uses the namespaces it imports. No I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..backend.plugins import DECORATE, INSTANCE_MEMBER

# Top-level statements start at the first column in every formatter's output. Each expression
# starts with a newline and a keyword (the text is read with a newline in front), so the regular
# expression engine skips to the next candidate line at C speed instead of trying every position.
_IMPORT = re.compile(r"\nimport[ \t]+(?:type[ \t]+)?([^;=()'\"`]*?)\s*from\s*['\"]([^'\"\n]+)['\"]")
_EXPORT = re.compile(
    r"\nexport[ \t]+(?:"
    r"(?:type[ \t]+)?([^;=()'\"`]*?)\s*from\s*['\"]([^'\"\n]+)['\"]"  # 1, 2: re-export
    r"|(?:type[ \t]*)?\{([^}]*)\}"  # 3: a local export list
    r"|default[ \t]+([A-Za-z_$][\w$]*)[ \t]*;?[ \t]*(?=\n)"  # 4: `export default name`
    r"|(declare[ \t]+(?:module|global))"  # 5: an augmentation
    r"|(?:declare[ \t]+)?(default[ \t]+)?(?:async[ \t]+)?(?:abstract[ \t]+)?"  # 6: default
    r"(?:const|let|var|function\*?|class|interface|type|enum|namespace)[ \t]*"
    r"([A-Za-z_$][\w$]*|\{[^}]*\})?"  # 7: a name, or a destructuring's names
    r"|(default)\b"  # 8: an anonymous default export
    r")"
)
_AUGMENTS = re.compile(r"^(?:export[ \t]+)?declare[ \t]+(?:module[ \t]+['\"]|global\b)", re.M)
_NAME = re.compile(r"^[A-Za-z_$][\w$]*$")


@dataclass(frozen=True)
class Binding:
    local: str
    imported: str
    """The exported name, or "default", or "*" for a namespace import."""
    specifier: str


@dataclass(frozen=True)
class Exports:
    """What a file offers to others: what decides where names imported from it lead."""

    declared: frozenset[str]
    aliases: tuple[tuple[str, str], ...]
    """`export { local as exported }`: (exported, local)."""
    default: str | None
    """The local name `export default` stands for; "" for an anonymous default."""
    reexports: tuple[tuple[str, dict[str, str] | None], ...]
    """(specifier, exported -> original name, or None for `export *`)."""
    namespaces: tuple[tuple[str, str], ...] = ()
    """`export * as name from "specifier"`: (name, specifier)."""


@dataclass
class FileRefs:
    stamp: object
    bindings: tuple[Binding, ...]
    exports: Exports
    augments: bool
    members: dict[str, frozenset[str]] = field(default_factory=dict)
    """For each namespace import (`import * as ns`), the names used as `ns.name`."""
    whole: frozenset[str] = frozenset()
    """The namespaces also used as a whole (`drizzle({ schema })`): every name of theirs is."""
    resolved: dict[str, Path | None] = field(default_factory=dict)
    """Specifier -> the workspace file it names (None for a package)."""
    decorates: frozenset[str] = frozenset()
    """Members the file adds to a Fastify instance (`app.decorate("verifyJwt", …)`)."""
    reads: frozenset[str] = frozenset()
    """Members it reads on a Fastify instance by its usual names (`app.verifyJwt`)."""

    def reads_as(self, other: FileRefs) -> bool:
        """Whether two readings of a file say the same to the index, whatever their stamps: a
        file opened as it is on disk, or an edit inside a function body, changes nothing."""
        return (
            self.bindings == other.bindings
            and self.exports == other.exports
            and self.augments == other.augments
            and self.members == other.members
            and self.whole == other.whole
            and self.decorates == other.decorates
            and self.reads == other.reads
        )


def _clause(text: str) -> list[tuple[str, str]]:
    """(local, imported) pairs of an import clause: `a, { b, c as d, type E }`, `* as ns`."""
    text = " ".join(text.split())
    out: list[tuple[str, str]] = []
    head, _, rest = text.partition("{")
    named, _, _ = rest.partition("}")
    for part in head.split(","):
        part = part.strip()
        if part.startswith("*"):
            ns = part.rsplit(" ", 1)[-1]
            if _NAME.match(ns) and " as " in part:
                out.append((ns, "*"))
        elif _NAME.match(part):
            out.append((part, "default"))
    for spec in named.split(","):
        words = spec.replace("type ", " ").split()
        if len(words) == 1 and _NAME.match(words[0]):
            out.append((words[0], words[0]))
        elif len(words) == 3 and words[1] == "as" and _NAME.match(words[2]):
            out.append((words[2], words[0]))
    return out


def scan(text: str, stamp: object) -> FileRefs:
    """What one file imports and exports, read from its text."""
    text = "\n" + text
    bindings = [
        Binding(local, imported, match[2])
        for match in _IMPORT.finditer(text)
        for local, imported in _clause(match[1])
    ]
    reexports: list[tuple[str, dict[str, str] | None]] = []
    namespaces: list[tuple[str, str]] = []
    declared: set[str] = set()
    aliases: list[tuple[str, str]] = []
    default: str | None = None
    augments = _AUGMENTS.search(text) is not None
    for match in _EXPORT.finditer(text):
        if match[2] is not None:
            clause = match[1].strip()
            if clause == "*":
                reexports.append((match[2], None))
            elif clause.startswith("{"):
                reexports.append((match[2], dict(_clause(clause))))
            else:
                namespaces += [(name, match[2]) for name, _ in _clause(clause)]
        elif match[3] is not None:
            for exported, local in _clause("{" + match[3] + "}"):
                declared.add(local)
                if exported != local:
                    aliases.append((exported, local))
        elif match[4] is not None:
            default = match[4]
        elif match[5] is not None:
            augments = True
        elif match[7] is not None:
            # A name, or those a destructuring binds: `{ a, b: c, d = 1 }` gives a, c and d.
            declared.update(re.findall(r"([A-Za-z_$][\w$]*)\s*(?=[,}=]|$)", match[7]))
            if match[6]:
                default = match[7]
        elif (match[8] or match[6]) and default is None:  # `export default function (`
            default = ""
    exports = Exports(
        frozenset(declared), tuple(aliases), default, tuple(reexports), tuple(namespaces)
    )
    locals_ = [b.local for b in bindings if b.imported == "*"]
    used = {local: members(text, local) for local in locals_}
    whole = frozenset(local for local in locals_ if used_whole(text, local))
    refs = FileRefs(stamp, tuple(bindings), exports, augments, used, whole=whole)
    refs.decorates = frozenset(DECORATE.findall(text)) if ".decorate" in text else frozenset()
    # Only a file that mentions Fastify (an import, a `FastifyInstance` type) reads members of
    # an instance; the pattern is most of the scan's time on the files that do not.
    refs.reads = frozenset(INSTANCE_MEMBER.findall(text)) if "astify" in text else frozenset()
    return refs


def members(text: str, local: str) -> frozenset[str]:
    """The names used as `local.name` in a file."""
    return frozenset(re.findall(rf"(?<![\w$]){re.escape(local)}\s*\.\s*([\w$]+)", text))


def used_whole(text: str, local: str) -> bool:
    """Whether a namespace is used other than as `local.name` and outside the clause that binds
    it (`* as local`, `{ local }`): passed on whole, as a drizzle client takes its schema."""
    # Not in a module specifier or a string: `"@acme/db/src/schema"` names no namespace.
    for match in re.finditer(rf"(?<![\w$./'\"@-]){re.escape(local)}(?![\w$/'\"-])", text):
        after = text[match.end() : match.end() + 40].lstrip()
        before = text[max(match.start() - 40, 0) : match.start()].rstrip()
        if after.startswith(".") or before.endswith(" as") or _in_import(text, match.start()):
            continue
        return True
    return False


def _in_import(text: str, at: int) -> bool:
    """Whether an offset is inside an import or export statement's clause."""
    line_start = text.rfind("\nimport", 0, at)
    clause_end = text.find(" from ", line_start) if line_start >= 0 else -1
    return line_start >= 0 and text.find(";", line_start, at) < 0 and at < clause_end
