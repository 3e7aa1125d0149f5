"""drizzle-kit's side of the database: the config, the migrations it wrote, the `db:` scripts.

An agent about to add an index should see the indexes migrations already create on the tables
in play. Reads files (a config, a folder of SQL): call it off the event loop.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_OUT = re.compile(r"""\bout\s*:\s*["'`]([^"'`]+)["'`]""")
_STATEMENT = re.compile(
    r"(CREATE\s+(?:UNIQUE\s+)?INDEX\b[^;]*;|ALTER\s+TABLE\b[^;]*\b(?:UNIQUE|PRIMARY\s+KEY|"
    r"FOREIGN\s+KEY)\b[^;]*;)",
    re.IGNORECASE | re.DOTALL,
)
_MAX_SQL_BYTES = 2_000_000
_MAX_STATEMENTS = 30


@dataclass(frozen=True)
class DatabaseProject:
    config: Path
    migrations: Path | None
    statements: list[tuple[Path, str]]
    """(migration file, statement) creating an index or a key on a table in play."""


def find_config(folders: Iterable[Path]) -> Path | None:
    for folder in folders:
        configs = sorted(folder.glob("drizzle.config.*"))
        if configs:
            return configs[0]
    return None


def database_project(folders: Iterable[Path], tables: set[str]) -> DatabaseProject | None:
    """The drizzle-kit project among ``folders`` (nearest first), with the statements of its
    migrations that index or key the SQL tables named in ``tables``."""
    config = find_config(folders)
    if config is None:
        return None
    try:
        text = config.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    out = _OUT.search(text)
    migrations = (config.parent / (out[1] if out else "drizzle")).resolve()
    if not migrations.is_dir() or config.parent not in migrations.parents:
        return DatabaseProject(config, None, [])
    found = [
        (sql, statement)
        for sql, statement in _statements(migrations)
        if any(re.search(rf'[\s."`]{re.escape(t)}["`\s(]', statement) for t in tables)
    ]
    return DatabaseProject(config, migrations, found[-_MAX_STATEMENTS:])


_read: dict[Path, tuple[tuple[tuple[str, int, int], ...], list[tuple[Path, str]]]] = {}
_read_lock = threading.Lock()


def _statements(migrations: Path) -> list[tuple[Path, str]]:
    """Every index and key statement of a migrations folder, read again only when a file in it
    changed: a context is built for every action, and a folder may hold hundreds of files."""
    files = sorted(migrations.rglob("*.sql"))
    stamp: list[tuple[str, int, int]] = []
    for sql in files:
        try:
            info = sql.stat()
        except OSError:
            continue
        stamp.append((str(sql), info.st_mtime_ns, info.st_size))
    key = tuple(stamp)
    with _read_lock:
        known = _read.get(migrations)
    if known is not None and known[0] == key:
        return known[1]
    found: list[tuple[Path, str]] = []
    for name, _, size in key:
        if size > _MAX_SQL_BYTES:
            continue
        try:
            body = Path(name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        found += [(Path(name), " ".join(m[1].split())) for m in _STATEMENT.finditer(body)]
    with _read_lock:
        _read[migrations] = (key, found)
    return found
