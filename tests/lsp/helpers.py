"""The route most protocol tests open, the edit they script in it, and opening it in an editor."""

from __future__ import annotations

from tests.lsp.editor import Editor

ROUTE = """\
import type { FastifyInstance } from "fastify";
import { eq } from "drizzle-orm";
import { db } from "../db/client.js";
import { orders } from "../db/schema.js";

export async function orderRoutes(app: FastifyInstance) {
  app.get("/orders/:id", async (request, reply) => {
    const { id } = request.params as { id: string };
    const rows = await db.select().from(orders).where(eq(orders.id, Number(id)));
    return rows[0];
  });
}
"""

# The edit most tests script: one replacement in ROUTE.
AT_ZERO = {
    "command": "str_replace",
    "path": "src/routes/orders.ts",
    "old_str": "return rows[0];",
    "new_str": "return rows.at(0);",
}


def open_route(editor: Editor, text: str = ROUTE) -> str:
    path = editor.path("src/routes/orders.ts")
    path.write_text(text, encoding="utf-8")
    return editor.open("src/routes/orders.ts", text)
