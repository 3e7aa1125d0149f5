"""drizzle-kit's side of the database: the config, the migrations it wrote, the `db:` scripts.

An agent about to add an index should see the indexes migrations already create on the tables
in play. Reads files (a config, a folder of SQL): call it off the event loop.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_OUT = re.compile(r"""\bout\s*:\s*["'`]([^"'`]+)["'`]""")
_STATEMENT = re.compile(
    r"(CREATE\s+(?:UNIQUE\s+)?INDEX\b[^;]*;|ALTER\s+TABLE\b[^;]*\b(?:UNIQUE|PRIMARY\s+KEY|"
    r"FOREIGN\s+KEY)\b[^;]*;|CREATE\s+TABLE\b[^;]*;)",
    re.IGNORECASE | re.DOTALL,
)
_CREATE_TABLE = re.compile(
    r"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:[\w\"`]+\.)?[\"`]?(\w+)", re.IGNORECASE
)
_CONFIG_FLAG = re.compile(r"""\bdrizzle-kit\b[^&|;]*?--config(?:=|\s+)["']?([^\s"'&|;]+)""")
_MAX_SQL_BYTES = 2_000_000
_MAX_STATEMENTS = 30


@dataclass(frozen=True)
class DatabaseProject:
    config: Path
    folder: Path
    """Where drizzle-kit runs: the package whose scripts call it; `out` is relative to it."""
    migrations: Path | None
    statements: list[tuple[Path, str]]
    """(migration file, statement) creating an index or a key on a table in play."""


def find_config(folders: Iterable[Path]) -> tuple[Path, Path] | None:
    """(drizzle-kit config, the folder it runs in): the first folder with a `drizzle.config.*`,
    or whose package.json scripts name one with `drizzle-kit ... --config PATH` (a config kept
    elsewhere, such as `infra/database/drizzle.config.js`)."""
    for folder in folders:
        configs = sorted(folder.glob("drizzle.config.*"))
        if configs:
            return configs[0], folder
        named = _config_of_scripts(folder)
        if named is not None:
            return named, folder
    return None


def _config_of_scripts(folder: Path) -> Path | None:
    try:
        manifest = json.loads((folder / "package.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    scripts = manifest.get("scripts") if isinstance(manifest, dict) else None
    for command in scripts.values() if isinstance(scripts, dict) else []:
        found = _CONFIG_FLAG.search(command) if isinstance(command, str) else None
        if found is None:
            continue
        config = (folder / found[1]).resolve()
        # Never a path out of the package (`--config ../../elsewhere.ts`).
        if folder.resolve() in config.parents and config.is_file():
            return config
    return None


def database_project(
    folders: Iterable[Path], tables: set[str], selected: Iterable[str] = ()
) -> DatabaseProject | None:
    """The drizzle-kit project among ``folders`` (nearest first), with the statements of its
    migrations that index or key the SQL tables named in ``tables``, and those that create the
    ``selected`` ones (the table as the database has it)."""
    found_config = find_config(folders)
    if found_config is None:
        return None
    config, folder = found_config
    try:
        text = config.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    out = _OUT.search(text)
    # drizzle-kit reads `out` relative to where it runs, not to the config.
    migrations = (folder / (out[1] if out else "drizzle")).resolve()
    if not migrations.is_dir() or folder.resolve() not in migrations.parents:
        return DatabaseProject(config, folder, None, [])
    created = set(selected)
    found = []
    for sql, statement in _statements(migrations):
        creates = _CREATE_TABLE.match(statement)
        if creates is not None:
            keep = creates[1] in created
        else:
            keep = any(re.search(rf'[\s."`]{re.escape(t)}["`\s(]', statement) for t in tables)
        if keep:
            found.append((sql, statement))
    # SQLite migrations rebuild a table to alter it, and create its indexes again each time:
    # the last migration that says it is the one that counts.
    last = {statement: index for index, (_, statement) in enumerate(found)}
    found = [item for index, item in enumerate(found) if last[item[1]] == index]
    return DatabaseProject(config, folder, migrations, found[-_MAX_STATEMENTS:])


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
        found += [(Path(name), _tidy(m[1])) for m in _STATEMENT.finditer(body)]
    with _read_lock:
        _read[migrations] = (key, found)
    return found


def _tidy(statement: str) -> str:
    """A statement on one line; a `CREATE TABLE` keeps a line per column, as it was written."""
    if _CREATE_TABLE.match(statement) is None:
        return " ".join(statement.split())
    return "\n".join(" ".join(line.split()) for line in statement.splitlines() if line.strip())
