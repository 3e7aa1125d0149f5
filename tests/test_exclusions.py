"""Which files the agent may never touch: `.gitignore` as git reads it, secrets, user patterns.

Each case is a workspace (ignore files by path), a file in it and whether it is excluded. The
cases follow gitignore(5); `test_git_agrees` runs every one through `git check-ignore` as well.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from subagent_lsp import exclusions as exclusions_module
from subagent_lsp.exclusions import Exclusions
from subagent_lsp.peek import NeedsDisk

Files = dict[str, str]

CASES: list[Any] = [
    # "doc/frotz/ matches doc/frotz directory, but not a/doc/frotz directory"
    pytest.param({".gitignore": "doc/frotz/\n"}, "doc/frotz/x.txt", True, id="anchored-folder"),
    pytest.param({".gitignore": "doc/frotz/\n"}, "a/doc/frotz/x.txt", False, id="anchored-deeper"),
    # "frotz/ matches frotz and a/frotz that is a directory"
    pytest.param({".gitignore": "frotz/\n"}, "frotz/x.txt", True, id="folder-at-top"),
    pytest.param({".gitignore": "frotz/\n"}, "a/frotz/x.txt", True, id="folder-anywhere"),
    pytest.param({".gitignore": "frotz/\n"}, "a/frotz", False, id="folder-only-not-a-file"),
    pytest.param({".gitignore": "frotz\n"}, "a/frotz", True, id="name-matches-a-file"),
    # "foo/* matches foo/test.json and foo/bar (a directory), but not foo/bar/hello.c": the file
    # is ignored only through its folder, so re-including folders shows it; `foo/**` matches it.
    pytest.param({".gitignore": "foo/*\n"}, "foo/test.json", True, id="star-one-level"),
    pytest.param({".gitignore": "foo/*\n"}, "foo/bar/hello.c", True, id="star-via-its-folder"),
    pytest.param(
        {".gitignore": "foo/*\n!foo/*/\n"}, "foo/bar/hello.c", False, id="star-not-deeper"
    ),
    pytest.param(
        {".gitignore": "foo/**\n!foo/**/\n"}, "foo/bar/hello.c", True, id="double-star-deeper"
    ),
    pytest.param({".gitignore": "abc/**\n"}, "abc/x/y.ts", True, id="inside-only"),
    pytest.param({".gitignore": "abc/**\n"}, "abc", False, id="inside-not-itself"),
    # "**/foo matches file or directory foo anywhere"; "**/foo/bar: bar directly under foo"
    pytest.param({".gitignore": "**/foo\n"}, "foo", True, id="leading-double-star-top"),
    pytest.param({".gitignore": "**/foo\n"}, "a/b/foo", True, id="leading-double-star-deep"),
    pytest.param({".gitignore": "**/foo/bar\n"}, "x/foo/bar", True, id="leading-then-path"),
    pytest.param({".gitignore": "**/foo/bar\n"}, "x/foo/y/bar", False, id="leading-exact-path"),
    # "a/**/b matches a/b, a/x/b, a/x/y/b"
    pytest.param({".gitignore": "a/**/b\n"}, "a/b", True, id="inner-zero-folders"),
    pytest.param({".gitignore": "a/**/b\n"}, "a/x/y/b", True, id="inner-two-folders"),
    pytest.param({".gitignore": "a/**/b\n"}, "z/a/x/b", False, id="inner-is-anchored"),
    # `foo/**/` names the folders below foo, not the files directly in it
    pytest.param({".gitignore": "foo/**/\n"}, "foo/a.txt", False, id="folders-below-not-files"),
    pytest.param({".gitignore": "foo/**/\n"}, "foo/d/b.txt", True, id="folders-below"),
    # a folder of stars alone is `**`; inside a name, `**` is `*`
    pytest.param({".gitignore": "***/x\n"}, "a/b/x", True, id="star-run-folder"),
    pytest.param({".gitignore": "a**b\n"}, "axxb", True, id="star-run-in-name"),
    pytest.param({".gitignore": "a**b\n"}, "a/x/b", False, id="star-run-stays-in-name"),
    # anchoring: a slash at the start or in the middle ties the pattern to the file's folder
    pytest.param({".gitignore": "/x\n"}, "x", True, id="leading-slash"),
    pytest.param({".gitignore": "/x\n"}, "a/x", False, id="leading-slash-top-only"),
    pytest.param({".gitignore": "a/b\n"}, "c/a/b", False, id="middle-slash-anchors"),
    pytest.param({".gitignore": "x\n"}, "a/x", True, id="no-slash-anywhere"),
    # `!` re-includes a file, but "it is not possible to re-include a file if a parent
    # directory of that file is excluded"
    pytest.param({".gitignore": "*.log\n!keep.log\n"}, "keep.log", False, id="negation"),
    pytest.param({".gitignore": "*.log\n!keep.log\n"}, "sub/keep.log", False, id="negation-deep"),
    pytest.param({".gitignore": "*.log\n!keep.log\n"}, "other.log", True, id="negation-others"),
    pytest.param({".gitignore": "!keep.log\n*.log\n"}, "keep.log", True, id="last-line-wins"),
    pytest.param(
        {".gitignore": "gen/\n!gen/keep.txt\n"}, "gen/keep.txt", True, id="no-reinclude-in-folder"
    ),
    pytest.param(
        {".gitignore": "gen/\n", "gen/.gitignore": "!keep.txt\n"},
        "gen/keep.txt",
        True,
        id="ignored-folder-file-unread",
    ),
    # "exclude everything except directory foo/bar"
    pytest.param(
        {".gitignore": "/*\n!/foo\n/foo/*\n!/foo/bar\n"}, "foo/bar/x.ts", False, id="only-foo-bar"
    ),
    pytest.param(
        {".gitignore": "/*\n!/foo\n/foo/*\n!/foo/bar\n"}, "foo/baz.ts", True, id="only-foo-bar-not"
    ),
    pytest.param({".gitignore": "*\n!*/\n!*.ts\n"}, "src/a.ts", False, id="allow-list"),
    pytest.param({".gitignore": "*\n!*/\n!*.ts\n"}, "src/a.js", True, id="allow-list-others"),
    # escapes, comments and blanks
    pytest.param({".gitignore": "#file\n"}, "#file", False, id="comment"),
    pytest.param({".gitignore": "\\#file\n"}, "#file", True, id="escaped-hash"),
    pytest.param({".gitignore": "\\!important!.txt\n"}, "!important!.txt", True, id="escaped-bang"),
    pytest.param({".gitignore": "\n\n   \n"}, "x", False, id="blank-lines"),
    # "Trailing spaces are ignored unless they are quoted with backslash"
    pytest.param({".gitignore": "x   \n"}, "x", True, id="trailing-spaces"),
    pytest.param({".gitignore": "x\\ \n"}, "x ", True, id="escaped-space"),
    pytest.param({".gitignore": "x\\ \n"}, "x", False, id="escaped-space-kept"),
    pytest.param({".gitignore": "x\\  \n"}, "x ", True, id="escaped-then-plain-space"),
    pytest.param({".gitignore": " x\n"}, " x", True, id="leading-space-kept"),
    pytest.param({".gitignore": "x\r\n"}, "x", True, id="crlf"),
    # character classes and `?`; none of them matches the `/` between folders
    pytest.param({".gitignore": "*.[oa]\n"}, "lib.a", True, id="class"),
    pytest.param({".gitignore": "*.[oa]\n"}, "main.c", False, id="class-miss"),
    pytest.param({".gitignore": "[a-c]x\n"}, "bx", True, id="class-range"),
    pytest.param({".gitignore": "[!a]b\n"}, "ab", False, id="class-negated"),
    pytest.param({".gitignore": "[!a]b\n"}, "cb", True, id="class-negated-hit"),
    pytest.param({".gitignore": "a[!x]b\n"}, "a/b", False, id="class-not-slash"),
    pytest.param({".gitignore": "?.txt\n"}, "ab.txt", False, id="question-one-char"),
    pytest.param({".gitignore": "a?b\n"}, "a/b", False, id="question-not-slash"),
    # nested .gitignore files: relative to their folder; the deeper one decides
    pytest.param(
        {".gitignore": "*.log\n", "sub/.gitignore": "!*.log\n"},
        "sub/a.log",
        False,
        id="deeper-wins",
    ),
    pytest.param(
        {".gitignore": "*.log\n", "sub/.gitignore": "!*.log\n"}, "a.log", True, id="deeper-below"
    ),
    pytest.param(
        {".gitignore": "!a.txt\n", "sub/.gitignore": "a.txt\n"},
        "sub/a.txt",
        True,
        id="deeper-ignores",
    ),
    pytest.param({"sub/.gitignore": "/gen\n"}, "sub/gen/x.ts", True, id="nested-anchored"),
    pytest.param({"sub/.gitignore": "/gen\n"}, "gen/x.ts", False, id="nested-not-above"),
    pytest.param({"sub/.gitignore": "/gen\n"}, "sub/a/gen/x.ts", False, id="nested-anchored-top"),
    pytest.param({"sub/.gitignore": "a/b\n"}, "sub/a/b", True, id="nested-path"),
    pytest.param({"a/.gitignore": "b/c\n"}, "a/b/c", True, id="nested-relative"),
    pytest.param(
        {".gitignore": "a/b/\n", "a/.gitignore": "!b/\n"}, "a/b/c", False, id="deeper-keeps-folder"
    ),
    # `.git/info/exclude` is read like a `.gitignore` at the top, ranked below it
    pytest.param({".git/info/exclude": "notes.md\n"}, "notes.md", True, id="info-exclude"),
    pytest.param(
        {".git/info/exclude": "notes.md\n", ".gitignore": "!notes.md\n"},
        "notes.md",
        False,
        id="info-exclude-below-gitignore",
    ),
    pytest.param(
        {".git/info/exclude": "*.md\n", "docs/.gitignore": "!*.md\n"},
        "docs/a.md",
        False,
        id="info-exclude-below-nested",
    ),
]


def _workspace(tmp_path: Path, files: Files) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    for name, text in files.items():
        file = root / name
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text, encoding="utf-8", newline="")
    return root


def check(tmp_path: Path, files: Files, path: str, expected: bool) -> None:
    root = _workspace(tmp_path, files)
    assert Exclusions((root,)).is_excluded(root / path) is expected


@pytest.mark.parametrize(("files", "path", "expected"), CASES)
def test_gitignore_rules(tmp_path: Path, files: Files, path: str, expected: bool) -> None:
    check(tmp_path, files, path, expected)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
@pytest.mark.parametrize(("files", "path", "expected"), CASES)
def test_git_agrees(tmp_path: Path, files: Files, path: str, expected: bool) -> None:
    root = tmp_path / "repo"
    # Nothing of the machine's own git configuration (a global excludes file) may take part.
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "init", "-q", str(root)], check=True, env=env)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8", newline="")
    (root / path).parent.mkdir(parents=True, exist_ok=True)
    (root / path).write_text("x", encoding="utf-8")
    answer = subprocess.run(
        ["git", "check-ignore", "-q", "--no-index", path], cwd=root, env=env, check=False
    )
    assert answer.returncode in (0, 1)
    assert (answer.returncode == 0) is expected


def test_a_symlinked_gitignore_is_not_read_as_git_does_not(tmp_path: Path) -> None:
    root = _workspace(tmp_path, {"rules": "x.ts\n"})
    (root / ".gitignore").symlink_to(root / "rules")
    assert not Exclusions((root,)).is_excluded(root / "x.ts")


def test_a_linked_worktree_reads_the_main_repositorys_info_exclude(tmp_path: Path) -> None:
    main = _workspace(tmp_path, {".git/info/exclude": "notes.md\n"})
    git_dir = main / ".git" / "worktrees" / "wt"
    git_dir.mkdir(parents=True)
    (git_dir / "commondir").write_text("../..\n", encoding="utf-8")
    worktree = tmp_path / "wt"
    worktree.mkdir()
    (worktree / ".git").write_text(f"gitdir: {git_dir}\n", encoding="utf-8")
    assert Exclusions((worktree,)).is_excluded(worktree / "notes.md")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (".env", True),
        ("config/.env.production", True),
        ("certs/server.pem", True),
        ("node_modules/pkg/index.js", True),
        ("packages/api/dist/index.js", True),
        ("src/build.ts", False),
        ("src/generated/schema.ts", True),  # the user's pattern
        ("src/index.ts", False),
    ],
)
def test_secrets_dependencies_build_output_and_user_patterns(
    tmp_path: Path, path: str, expected: bool
) -> None:
    root = _workspace(tmp_path, {})
    assert Exclusions((root,), ["src/generated/*"]).is_excluded(root / path) is expected


def test_a_path_outside_the_workspace_is_judged_by_name_only(tmp_path: Path) -> None:
    root = _workspace(tmp_path, {".gitignore": "*.ts\n"})
    exclusions = Exclusions((root,))
    assert not exclusions.is_excluded(tmp_path / "elsewhere" / "a.ts")
    assert exclusions.is_excluded(tmp_path / "elsewhere" / ".env")


@contextmanager
def no_disk(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail on any file opened or stat'ed meanwhile."""

    def refuse(name: str) -> Callable[..., Any]:
        def refused(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError(f"{name} {args[0]} while peeking")

        return refused

    with monkeypatch.context() as patch:
        for name in ("open", "stat", "lstat", "scandir", "listdir"):
            patch.setattr(os, name, refuse(f"os.{name}"))
        patch.setattr("builtins.open", refuse("open"))
        yield


def test_peek_needs_the_disk_until_the_ignore_files_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _workspace(tmp_path, {".gitignore": "*.log\n", "sub/.gitignore": "!keep.log\n"})
    exclusions = Exclusions((root,))
    with no_disk(monkeypatch), pytest.raises(NeedsDisk):
        exclusions.is_excluded(root / "a.log", peek=True)
    assert exclusions.is_excluded(root / "a.log")
    with no_disk(monkeypatch):
        assert exclusions.is_excluded(root / "b.log", peek=True)
        # sub/.gitignore is not read yet, and it decides.
        with pytest.raises(NeedsDisk):
            exclusions.is_excluded(root / "sub" / "keep.log", peek=True)
    assert not exclusions.is_excluded(root / "sub" / "keep.log")
    with no_disk(monkeypatch):
        assert not exclusions.is_excluded(root / "sub" / "keep.log", peek=True)
        # Secrets are known without any ignore file.
        assert Exclusions((root,)).is_excluded(root / ".env", peek=True)


def test_peek_answers_inside_an_ignored_folder_without_its_ignore_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _workspace(tmp_path, {".gitignore": "gen/\n", "gen/.gitignore": "!*\n"})
    exclusions = Exclusions((root,))
    assert not exclusions.is_excluded(root / "a.ts")
    with no_disk(monkeypatch):
        assert exclusions.is_excluded(root / "gen" / "deep" / "x.ts", peek=True)


def test_each_ignore_file_is_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _workspace(tmp_path, {".gitignore": "*.log\n", "src/.gitignore": "*.tmp\n"})
    reads: list[Path] = []
    read = exclusions_module._read

    def counted(path: str | Path, *, follow_symlinks: bool) -> str:
        reads.append(Path(path))
        return read(path, follow_symlinks=follow_symlinks)

    monkeypatch.setattr(exclusions_module, "_read", counted)
    exclusions = Exclusions((root,))
    for name in ("a.ts", "b.log", "src/c.ts", "src/d.tmp", "src/e.ts"):
        exclusions.is_excluded(root / name)
    assert len(reads) == len(set(reads))
    assert root / ".gitignore" in reads and root / "src" / ".gitignore" in reads


def test_answers_are_the_same_from_many_threads(tmp_path: Path) -> None:
    root = _workspace(
        tmp_path, {".gitignore": "*.log\n!keep.log\ngen/\n", "a/.gitignore": "!*.log\n"}
    )
    paths = [
        root / folder / name
        for folder in ("", "a", "a/b", "gen", "c")
        for name in ("x.ts", "x.log", "keep.log")
    ]
    expected = [Exclusions((root,)).is_excluded(path) for path in paths]
    shared = Exclusions((root,))
    start = threading.Barrier(8)

    def answers(_: int) -> list[bool]:
        start.wait()
        return [shared.is_excluded(path) for path in paths]

    with ThreadPoolExecutor(8) as pool:
        assert all(result == expected for result in pool.map(answers, range(8)))


# The unguarded regex takes minutes on these; a generous bound keeps a slow machine green.
@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("pattern", "path"),
    [
        pytest.param("*a*a*a*a*a*a*a*a*a*c", "a" * 200, id="stars-in-a-name"),
        pytest.param("*a*a*a*a*a*a*a*a*a*c", "a" * 199 + "b", id="stars-almost"),
        pytest.param(
            "**/a/**/a/**/a/**/a/**/c", "/".join(["a"] * 100) + "/b", id="double-stars-in-a-path"
        ),
    ],
)
def test_a_pathological_pattern_answers_quickly(tmp_path: Path, pattern: str, path: str) -> None:
    root = _workspace(tmp_path, {".gitignore": pattern + "\n"})
    exclusions = Exclusions((root,))
    started = time.perf_counter()
    assert not exclusions.is_excluded(root / path)
    assert time.perf_counter() - started < 5
