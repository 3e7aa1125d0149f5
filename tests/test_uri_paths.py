"""File uris to paths and back, as each editor spells them, on POSIX and on Windows (checked here
with pure paths, so the Windows rules run on any machine)."""

from __future__ import annotations

from pathlib import PurePosixPath, PureWindowsPath

import pytest

from subagent_lsp.lsp.documents import fs_path_of, uri_of, uri_to_path


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("file:///c%3A/Users/me/My%20Project/x.ts", r"C:\Users\me\My Project\x.ts"),  # VS Code
        ("file:///C:/Users/me/My%20Project/x.ts", r"C:\Users\me\My Project\x.ts"),  # Neovim
        ("file:///c:/Users/me/x.ts", r"C:\Users\me\x.ts"),
        ("file:///d%3A", "D:"),
        ("file://server/share/dir/x.ts", r"\\server\share\dir\x.ts"),  # a UNC share
        ("file://localhost/C:/x.ts", r"C:\x.ts"),
        ("file:///c%3A/a%2Bb/%E9%A0%85%E7%9B%AE/%5Bx%5D%23y.ts", r"C:\a+b\項目\[x]#y.ts"),
    ],
)
def test_windows_uris_name_windows_paths(uri: str, expected: str) -> None:
    path = fs_path_of(uri, windows=True)
    assert path is not None
    assert PureWindowsPath(path) == PureWindowsPath(expected)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (r"C:\Users\me\My Project\x.ts", "file:///c%3A/Users/me/My%20Project/x.ts"),
        (r"c:\a+b\é.ts", "file:///c%3A/a%2Bb/%C3%A9.ts"),
        (r"\\server\share\x.ts", "file://server/share/x.ts"),
    ],
)
def test_windows_paths_become_the_uris_vs_code_writes(path: str, expected: str) -> None:
    assert uri_of(path, windows=True) == expected
    assert PureWindowsPath(fs_path_of(expected, windows=True) or "") == PureWindowsPath(path)


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("file:///tmp/My%20Project/x.ts", "/tmp/My Project/x.ts"),
        ("file:///tmp/a@b+c%20%5bx%5d%23y/%c3%a9.ts", "/tmp/a@b+c [x]#y/é.ts"),  # Neovim
        ("file:///tmp/a%40b%2Bc%20%5Bx%5D%23y/%C3%A9.ts", "/tmp/a@b+c [x]#y/é.ts"),  # VS Code
        ("file://localhost/tmp/x.ts", "/tmp/x.ts"),
    ],
)
def test_posix_uris_in_any_spelling_name_one_path(uri: str, expected: str) -> None:
    assert PurePosixPath(fs_path_of(uri, windows=False) or "") == PurePosixPath(expected)


@pytest.mark.parametrize(
    "uri",
    [
        "untitled:Untitled-1",
        "git:/tmp/x.ts?ref",
        "file://otherhost/tmp/x.ts",
        "file:///tmp/a%00b.ts",
        "file:///tmp/%FF.ts",
    ],
)
def test_what_names_no_local_file_is_refused(uri: str) -> None:
    assert uri_to_path(uri) is None


def test_posix_paths_round_trip() -> None:
    for path in ["/tmp/My Project/x.ts", "/tmp/項目/a#b/[x].ts", "/tmp/a+b@c/é.ts"]:
        assert fs_path_of(uri_of(path, windows=False), windows=False) == path
