"""tsconfig files as TypeScript reads them, and as users break them: a malformed file is left
out with a log line, never a failed request."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from subagent_lsp.context.modules import BadTsConfig, ModuleResolver, load_tsconfig, parse_jsonc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1,}', {"a": 1}),
        ('{"a": [1, 2,],}', {"a": [1, 2]}),
        ('// top\n{"a": /* inline */ 1}', {"a": 1}),
        ('{"url": "http://x//y", "glob": "src/**/*"}', {"url": "http://x//y", "glob": "src/**/*"}),
        ('{"odd": ",]", "escaped": "say \\"//\\""}', {"odd": ",]", "escaped": 'say "//"'}),
        ('\ufeff{"bom": true}', {"bom": True}),
        ('{"a": 1, // last\n}', {"a": 1}),
    ],
)
def test_jsonc(text: str, expected: object) -> None:
    assert parse_jsonc(text) == expected


def _write(folder: Path, name: str, data: object, *, bom: bool = False) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    text = data if isinstance(data, str) else json.dumps(data)
    path.write_text(("\ufeff" if bom else "") + text, encoding="utf-8")
    return path


def test_extends_lists_and_packages_merge_in_typescripts_order(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "node_modules/@tsconfig/node20/tsconfig.json",
        {"compilerOptions": {"target": "es2022", "module": "node16", "strict": True}},
    )
    _write(
        tmp_path, "node_modules/plain-base/tsconfig.json", {"compilerOptions": {"module": "esnext"}}
    )
    _write(
        tmp_path,
        "base.json",
        {"compilerOptions": {"target": "es2020", "paths": {"@/*": ["src/*"]}}},
    )
    config = _write(
        tmp_path,
        "tsconfig.json",
        {
            "extends": ["@tsconfig/node20/tsconfig.json", "plain-base", "./base"],
            "compilerOptions": {"strict": False},
        },
    )
    loaded = load_tsconfig(config, [tmp_path])
    # Later entries override earlier ones; the file itself overrides them all.
    assert loaded.compiler_options == {
        "target": "es2020",
        "module": "esnext",
        "strict": False,
        "paths": {"@/*": ["src/*"]},
    }
    assert loaded.paths == {"@/*": ["src/*"]} and loaded.paths_base == tmp_path


def test_a_bom_is_read_like_typescript_does(tmp_path: Path) -> None:
    config = _write(
        tmp_path,
        "tsconfig.json",
        {"compilerOptions": {"baseUrl": ".", "paths": {"@/*": ["src/*"]}}},
        bom=True,
    )
    _write(tmp_path, "src/a.ts", "export const a = 1;\n")
    assert load_tsconfig(config, [tmp_path]).paths == {"@/*": ["src/*"]}
    resolver = ModuleResolver([tmp_path])
    assert resolver.resolve(tmp_path / "src" / "b.ts", "@/a") == tmp_path / "src" / "a.ts"


@pytest.mark.parametrize(
    "text",
    [
        "[]",
        "null",
        "42",
        '"x"',
        "{",
        '{"compilerOptions": []}',
        '{"compilerOptions": {"paths": "x"}}',
        '{"compilerOptions": {"paths": {"@/*": "src/*"}}}',
        '{"extends": 42}',
        '{"extends": [null, 1]}',
    ],
)
def test_a_malformed_tsconfig_costs_only_itself(tmp_path: Path, text: str) -> None:
    _write(tmp_path, "tsconfig.json", text)
    _write(tmp_path, "src/a.ts", "export const a = 1;\n")
    resolver = ModuleResolver([tmp_path])
    source = tmp_path / "src" / "b.ts"
    # Relative imports still resolve; the config is left out or read for what is usable.
    assert resolver.resolve(source, "./a") == tmp_path / "src" / "a.ts"
    config = resolver.tsconfig_for(source)
    assert config is None or isinstance(config.paths, dict)


def test_a_root_that_is_not_an_object_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BadTsConfig):
        load_tsconfig(_write(tmp_path, "tsconfig.json", "[]"), [tmp_path])


def test_a_deep_extends_chain_stops_without_failing(tmp_path: Path) -> None:
    for n in range(1200):
        _write(
            tmp_path, f"c{n}.json", {"extends": f"./c{n + 1}.json", "compilerOptions": {f"o{n}": n}}
        )
    loaded = load_tsconfig(tmp_path / "c0.json", [tmp_path])
    assert loaded.compiler_options["o0"] == 0 and "o1199" not in loaded.compiler_options


def test_a_cycle_of_extends_is_read_once(tmp_path: Path) -> None:
    _write(tmp_path, "a.json", {"extends": "./b.json", "compilerOptions": {"a": 1}})
    _write(tmp_path, "b.json", {"extends": "./a.json", "compilerOptions": {"b": 2}})
    assert load_tsconfig(tmp_path / "a.json", [tmp_path]).compiler_options == {"a": 1, "b": 2}


def test_extends_never_leaves_the_workspace(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    workspace = tmp_path / "workspace"
    _write(outside, "base.json", {"compilerOptions": {"secret": "outside"}})
    config = _write(workspace, "tsconfig.json", {"extends": "../outside/base.json"})
    assert load_tsconfig(config, [workspace]).compiler_options == {}
