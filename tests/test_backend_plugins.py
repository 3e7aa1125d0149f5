"""How a plugin or sub-app reaches the app: register prefixes, `fastify-plugin` hooks registered
before, autoload folders, Hono mounts and the `use` before them, decorated members, and the
route `config` keys a hook reads."""

from __future__ import annotations

from pathlib import Path

import pytest
from tree_sitter import Node

from subagent_lsp.backend.autoload import autoloads
from subagent_lsp.backend.plugins import (
    constant,
    decorations,
    is_wrapped_plugin,
    join_paths,
    looped_registration,
    mount_of,
    neighbours,
    registered_before,
    route_config_keys,
    uses_before,
)
from subagent_lsp.syntax import SourceFile
from subagent_lsp.syntax.tree import arguments, calls_in, member_parts


def _src(text: str) -> SourceFile:
    return SourceFile(text, "typescript")


def _call(src: SourceFile, method: str, argument: str) -> Node:
    """The `x.method(argument, …)` call of the text."""
    for call in calls_in(src, src.tree.root_node, 0, len(src.text)):
        parts = member_parts(call, src)
        args = arguments(call)
        named = {src.node_text(a) for a in args}
        if parts is not None and parts[1] == method and argument in named:
            return call
    raise AssertionError(f"no {method}({argument})")


@pytest.mark.parametrize(
    ("code", "method", "plugin", "expected"),
    [
        ('app.register(routes, { prefix: "/v1" });', "register", "routes", ("register", "/v1")),
        (
            'const BASE = "api";\nfunction f() {\n  const options = { prefix: BASE };\n'
            "  app.register(a, options).register(routes, options);\n}",
            "register",
            "routes",
            ("register", "api"),
        ),
        ("app.register(routes);", "register", "routes", ("register", "")),
        (
            'const base = "/x";\napp.register(routes, { prefix: `${base}/y` });',
            "register",
            "routes",
            ("register", "/x/y"),
        ),
        ('api.route("/incident", incidentsApi);', "route", "incidentsApi", ("route", "/incident")),
        # The plugin is not what is registered: no mount of it.
        ("app.register(other, routes);", "register", "routes", None),
    ],
)
def test_a_mount_says_what_prefix_it_adds(
    code: str, method: str, plugin: str, expected: tuple[str, str] | None
) -> None:
    src = _src(code)
    call = _call(src, method, plugin)
    node = next(a for a in arguments(call) if src.node_text(a) == plugin)
    mount = mount_of(src, call, node)
    assert ((mount.kind, mount.prefix) if mount is not None else None) == expected


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (("api", "/articles"), "/api/articles"),
        (("/v1/", "/items", "/"), "/v1/items"),
        (("", "/"), "/"),
        (("/v1", "bookings", "/:id"), "/v1/bookings/:id"),
    ],
)
def test_prefixes_join_with_one_slash(parts: tuple[str, ...], expected: str) -> None:
    assert join_paths(*parts) == expected


def test_constants_are_followed_through_bindings_and_templates() -> None:
    src = _src('const A = "/a";\nconst B = `${A}/b`;\nconst C = B;\nx(C, f());')
    node = src.node_at(src.text.rindex("C,"), src.text.rindex("C,") + 1)
    assert constant(src, node) == "/a/b"
    f = src.node_at(src.text.index("f()"), src.text.index("f()") + 3)
    assert constant(src, f) is None


def test_plugins_registered_before_and_after_on_the_same_instance() -> None:
    src = _src(
        "async function build(app) {\n"
        "  app.register(session);\n"
        "  other.register(unrelated);\n"
        "  app.register(failures).register(routes, { prefix: '/api' });\n"
        "  app.register(later);\n"
        "}\n"
    )
    call = _call(src, "register", "routes")
    before = [src.node_text(p) for _, p in registered_before(src, call)]
    after = [src.node_text(p) for _, p in registered_before(src, call, after=True)]
    assert before == ["session", "failures"]
    assert after == ["later"]


def test_a_registration_is_shown_with_the_registrations_around_it() -> None:
    src = _src(
        "app.register(cors);\n"
        "app.register(session);\n"
        "app.register(failures);\n"
        "const x = 1;\n"
        "app.register(routes);\n"
    )
    start, end = neighbours(src, _call(src, "register", "session"))
    assert src.text[start:end] == (
        "app.register(cors);\napp.register(session);\napp.register(failures);"
    )


@pytest.mark.parametrize(
    ("code", "wrapped"),
    [
        ('import fp from "fastify-plugin";\nexport default fp(async (app) => {});', True),
        ('import fp from "fastify-plugin";\nexport default fp<Opts>(async (app) => {});', True),
        # The same name without the package is some other function.
        ("export default fp(async (app) => {});", False),
        ('import fp from "fastify-plugin";\nexport default wrap(async (app) => {});', False),
    ],
)
def test_fastify_plugin_wrapping_is_told_by_the_package(code: str, wrapped: bool) -> None:
    src = _src(code)
    statement = src.tree.root_node.named_children[-1]
    assert is_wrapped_plugin(src, statement.child_by_field_name("value")) is wrapped


def test_autoload_names_its_folder_filter_and_prefix() -> None:
    here = Path("/w/src/infra")
    src = _src(
        'import path from "node:path";\n'
        'import autoload from "@fastify/autoload";\n'
        "function load(app) {\n"
        '  const dir = path.join(import.meta.dirname, "../modules");\n'
        "  app.register(autoload, {\n"
        "    dir,\n"
        '    matchFilter: (p: string) => p.endsWith(".router.ts"),\n'
        '    options: { ...opts, prefix: "/v1" },\n'
        "  });\n"
        "}\n"
    )
    (found,) = autoloads(src, here / "server.ts")
    assert found.dir == Path("/w/src/modules")
    assert found.covers(Path("/w/src/modules/bookings/bookings.router.ts"))
    assert not found.covers(Path("/w/src/modules/bookings/bookings.service.ts"))
    assert not found.covers(Path("/w/src/libs/auth.router.ts"))
    # Autoload prefixes a file's routes with the folders below `dir`, after the option's.
    assert found.prefix_of(Path("/w/src/modules/bookings/bookings.router.ts")) == "/v1/bookings"


def test_autoload_without_its_package_is_no_autoload() -> None:
    src = _src('function load(app) {\n  app.register(autoload, { dir: "x" });\n}\n')
    assert autoloads(src, Path("/w/server.ts")) == []


@pytest.mark.parametrize(
    ("code", "keys"),
    [
        ("if (request.routeOptions.config.auth === false) return;", {"auth"}),
        ("const c = request.routeOptions.config;\nif (c.auth === 'OPTIONAL') {}", {"auth"}),
        ("const { auth, rateLimit: rl } = request.routeOptions.config;", {"auth", "rateLimit"}),
        ("if (request.routeConfig.public) return;", {"public"}),
        ("if (request.headers.config) return;", set()),
    ],
)
def test_the_route_config_keys_a_hook_reads(code: str, keys: set[str]) -> None:
    src = _src(code)
    assert route_config_keys(src, 0, len(src.text)) == keys


def test_hono_middleware_before_a_mount_applies_under_its_path() -> None:
    src = _src(
        'import { Hono } from "hono";\n'
        "const api = new Hono();\n"
        'api.use("/openapi", cors());\n'
        'api.use("/*", auth);\n'
        'api.use("/incident/*", audit);\n'
        'api.route("/incident", incidentsApi);\n'
        'api.use("/*", late);\n'
    )
    call = _call(src, "route", "incidentsApi")
    shown = [src.node_text(arguments(u)[-1]) for u in uses_before(src, call, "/incident")]
    assert shown == ["auth", "audit"]


def test_decorated_members_and_their_values() -> None:
    src = _src(
        "async function plugin(app) {\n"
        "  const check = () => {};\n"
        '  app.decorate("verify", opts.verify ?? check);\n'
        '  app.decorateRequest("user", null);\n'
        "}\n"
    )
    found = {name: src.node_text(value) for name, value in decorations(src).items()}
    assert found == {"verify": "opts.verify ?? check", "user": "null"}


@pytest.mark.parametrize(
    "code",
    [
        "for (const routes of [users, tickets]) {\n  app.register(routes, { prefix: '/api' });\n}",
        "const modules = [users, tickets];\n"
        "for (const m of modules) app.register(m, { prefix: '/api' });",
        "[users, tickets].forEach((m) => app.register(m, { prefix: '/api' }));",
        "const modules = [users, tickets];\n"
        "modules.forEach(function (m) { app.register(m, { prefix: '/api' }); });",
    ],
)
def test_plugins_registered_in_a_loop_get_the_loops_prefix(code: str) -> None:
    src = _src(code)
    at = src.text.index("tickets")
    element = src.node_at(at, at + len("tickets"))
    found = looped_registration(src, element)
    assert found is not None
    call, plugin = found
    mount = mount_of(src, call, plugin)
    assert mount is not None and mount.prefix == "/api"


def test_a_list_nobody_registers_is_no_mount() -> None:
    src = _src("const modules = [users, tickets];\nfor (const m of modules) console.log(m);")
    at = src.text.index("tickets")
    assert looped_registration(src, src.node_at(at, at + len("tickets"))) is None
