"""Reading TypeScript with tree-sitter, and nothing framework-specific.

`source` (the parsed text, its one line table, offsets), `tree` (small node readings), `targets`
(what the cursor points at), `comments` (instruction comments), `imports`, `declarations`.
Framework knowledge built on these lives in `backend/`.
"""

from .comments import Instruction, find_instruction
from .declarations import Declaration, ReExport, Symbol, declarations, reexports
from .imports import ImportDecl, imports
from .source import SourceFile, SyntaxLanguage, identifiers_in, language_for
from .targets import Target, resolve_target

__all__ = [
    "Declaration",
    "ImportDecl",
    "Instruction",
    "ReExport",
    "SourceFile",
    "Symbol",
    "SyntaxLanguage",
    "Target",
    "declarations",
    "find_instruction",
    "identifiers_in",
    "imports",
    "language_for",
    "reexports",
    "resolve_target",
]
