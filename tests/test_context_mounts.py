"""The context a selection gets from the chain that attaches its plugin or router to the app:
the registration with its prefix and the full path, the `fastify-plugin` hooks registered
before it, autoload by folder, Hono mounts behind `use`, decorated members and their uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from subagent_lsp.backend.hover_facts import static_facts
from subagent_lsp.backend.routes import RouteCall
from subagent_lsp.context.chain import served_prefix
from subagent_lsp.context.index import ProjectIndex
from subagent_lsp.context.items import Context
from subagent_lsp.context.mounts import Mounts
from subagent_lsp.context.references import ReferenceIndex
from subagent_lsp.context.registrations import registered_route
from subagent_lsp.context.symbols import Lookup
from subagent_lsp.exclusions import Exclusions
from tests.helpers import context_at, copy_fixture


@pytest.fixture
def fastify(tmp_path: Path) -> Path:
    return copy_fixture(tmp_path, "fastify-mounts", "fastify")


@pytest.fixture
def hono(tmp_path: Path) -> Path:
    return copy_fixture(tmp_path, "hono-mounts", "hono")


def _reasons(context: Context) -> list[tuple[str, str]]:
    return [(item.path, item.reason) for item, form in context.items if form == "full"]


def _has(context: Context, path: str, *words: str) -> bool:
    return any(p == path and all(w in r for w in words) for p, r in _reasons(context))


def test_a_route_gets_its_prefix_full_path_and_the_app_wide_hooks(fastify: Path) -> None:
    context = context_at(
        fastify, "src/modules/tickets/index.ts", 'app.route({\n    method: "GET"', select=True
    )
    assert _has(context, "src/server.ts", "`ticketRoutes`")
    assert _has(context, "src/server.ts", "prefix `api`", "`GET /api/tickets/:id`")
    assert _has(context, "src/hooks/session.ts", "`onRequest`", "`requireSession`")
    assert _has(context, "src/hooks/failures.ts", "`onError`")
    text = context.render()
    assert "const moduleOptions = { prefix: API_BASE };" in text
    assert "if (config.session === false) return;" in text


def test_a_hook_plugin_gets_its_registration_neighbours_and_routes_that_opt_out(
    fastify: Path,
) -> None:
    context = context_at(fastify, "src/hooks/session.ts", "app.addHook", select=True)
    text = context.render()
    # Registered between what comes before and after it: the order decides what applies.
    assert "app.register(requireSession);" in text
    assert "app.register(logFailures);" in text
    assert _has(context, "src/hooks/failures.ts", "registered after it")
    assert _has(context, "src/modules/tickets/index.ts", "`config.session`")
    assert "config: { session: false }," in text


def test_an_autoloaded_router_gets_its_loader_prefix_and_the_decorated_guard(
    fastify: Path,
) -> None:
    context = context_at(
        fastify, "src/modules/orders/orders.router.ts", 'app.post("/"', select=True
    )
    assert _has(context, "src/app.ts", "@fastify/autoload", "`POST /v2/orders`")
    assert _has(context, "src/plugins/auth/auth.plugin.ts", "`checkToken`")
    text = context.render()
    assert 'app.addHook("preHandler", app.checkToken);' in text
    assert "const checkToken = async (request: FastifyRequest" in text
    assert 'matchFilter: (file: string) => file.endsWith(".router.ts"),' in text


def test_a_plugin_that_decorates_gets_where_routes_use_the_member(fastify: Path) -> None:
    context = context_at(
        fastify, "src/plugins/auth/auth.plugin.ts", "const checkToken", select=True
    )
    assert _has(context, "src/app.ts", "@fastify/autoload")
    assert _has(context, "src/modules/orders/orders.router.ts", "uses `checkToken`")


def test_a_hono_route_gets_each_mount_up_to_the_app_with_its_middleware(hono: Path) -> None:
    context = context_at(hono, "src/v1/notes/list.ts", 'app.get("/"', select=True)
    assert _has(context, "src/v1/index.ts", "at `/notes`", "behind the middleware")
    assert _has(context, "src/index.ts", "at `/v1`", "`GET /v1/notes`")
    text = context.render()
    assert 'v1.use("/*", requireKey);' in text
    # Middleware for another path does not apply to this mount.
    assert 'v1.use("/docs", cors());' not in text


def test_a_handler_registered_by_name_is_offered_with_the_path_the_app_serves(
    fastify: Path,
) -> None:
    index = ProjectIndex([fastify])
    refs = ReferenceIndex((fastify,), index.resolver, Exclusions((fastify,)))
    refs.build()
    path = fastify / "src/modules/tickets/handlers.ts"
    src = index.source(path, {})
    assert src is not None
    lookup = Lookup(index, {}, Exclusions((fastify,)))
    found = registered_route(path, src, "closeTicket", lookup, refs, {})
    assert found is not None
    assert (found.method, found.path) == ("POST", "/api/tickets/:id/close")


@pytest.mark.parametrize(
    ("root", "relative", "needle", "served"),
    [
        ("fastify", "src/modules/tickets/index.ts", "app.route(", "GET /api/tickets/:id"),
        ("fastify", "src/modules/orders/orders.router.ts", "app.post(", "POST /v2/orders"),
        ("hono", "src/v1/notes/list.ts", "app.get(", "GET /v1/notes"),
    ],
)
def test_a_route_hover_says_where_the_app_serves_it(
    request: pytest.FixtureRequest, root: str, relative: str, needle: str, served: str
) -> None:
    folder: Path = request.getfixturevalue(root)
    index = ProjectIndex([folder])
    refs = ReferenceIndex((folder,), index.resolver, Exclusions((folder,)))
    refs.build()
    path = folder / relative
    src = index.source(path, {})
    assert src is not None
    lookup = Lookup(index, {}, Exclusions((folder,)))

    def prefix(route: RouteCall) -> str | None:
        return served_prefix(path, src, route, lookup, refs, {})

    at = src.text.index(needle)
    facts = static_facts(src, at, lambda n: lookup.find(path, src, n), lambda p: p.name, prefix)
    assert facts is not None and facts.kind == "route"
    assert f"- served at: `{served}`" in facts.markdown
    # Without the workspace, the hover says only what the file says.
    alone = static_facts(src, at, lambda n: lookup.find(path, src, n), lambda p: p.name)
    assert alone is not None and "served at" not in alone.markdown


def test_a_module_registered_in_a_loop_gets_the_loops_prefix(fastify: Path) -> None:
    (fastify / "src/server.ts").write_text(
        'import Fastify from "fastify";\n'
        'import ticketRoutes from "./modules/tickets/index.js";\n\n'
        "export function buildServer() {\n"
        "  const app = Fastify();\n"
        "  const modules = [ticketRoutes];\n"
        '  modules.forEach((m) => app.register(m, { prefix: "/v3" }));\n'
        "  return app;\n"
        "}\n",
        encoding="utf-8",
    )
    context = context_at(
        fastify, "src/modules/tickets/index.ts", 'app.route({\n    method: "GET"', select=True
    )
    assert _has(context, "src/server.ts", "`ticketRoutes`", "`GET /v3/tickets/:id`")


def test_a_function_called_with_a_value_that_is_never_mounted_gets_no_chain(
    fastify: Path,
) -> None:
    (fastify / "src/cleanup.ts").write_text(
        "export function cleanup(queue: { drain(): void }) {\n  queue.drain();\n}\n",
        encoding="utf-8",
    )
    (fastify / "src/jobs.ts").write_text(
        'import { cleanup } from "./cleanup.js";\n\n'
        "export const queue = { drain() {} };\n\n"
        "cleanup(queue);\n",
        encoding="utf-8",
    )
    index = ProjectIndex([fastify])
    refs = ReferenceIndex((fastify,), index.resolver, Exclusions((fastify,)))
    refs.build()
    path = fastify / "src/cleanup.ts"
    src = index.source(path, {})
    assert src is not None
    mounts = Mounts(Lookup(index, {}, Exclusions((fastify,))), refs, {})
    assert mounts.chain(path, src, "cleanup") == []
    context = context_at(fastify, "src/cleanup.ts", "queue.drain();", select=True)
    assert not any("hands the app" in reason for _, reason in _reasons(context))
