import type { FastifyInstance } from "fastify";
import { desc, eq } from "drizzle-orm";

import { db, users } from "@/db/index.js";
import { NotFoundError } from "../lib/errors.js";
import { createUserBody, paginationQuery, updateUserBody, userParams } from "../schemas/index.js";

export async function userRoutes(app: FastifyInstance) {
  app.get("/users", { schema: { querystring: paginationQuery } }, async (request) => {
    const { limit, offset } = paginationQuery.parse(request.query);
    return db
      .select()
      .from(users)
      .orderBy(desc(users.createdAt))
      .limit(limit)
      .offset(offset);
  });

  app.get("/users/:id", { schema: { params: userParams } }, async (request) => {
    const { id } = userParams.parse(request.params);
    const [user] = await db.select().from(users).where(eq(users.id, id));
    if (!user) {
      throw new NotFoundError("User", id);
    }
    return user;
  });

  app.post("/users", async (request, reply) => {
    const body = request.body as { email: string; displayName: string; role?: string };
    const [created] = await db
      .insert(users)
      .values({ email: body.email, displayName: body.displayName, role: body.role ?? "member" })
      .returning();
    return reply.send(created);
  });

  app.patch("/users/:id", { schema: { params: userParams, body: updateUserBody } }, async (request) => {
    const { id } = userParams.parse(request.params);
    const changes = updateUserBody.parse(request.body);
    const [updated] = await db.update(users).set(changes).where(eq(users.id, id)).returning();
    return updated;
  });

  app.delete("/users/:id", async (request, reply) => {
    const { id } = request.params as { id: string };
    await db.delete(users).where(eq(users.id, Number(id)));
    return reply.code(200).send({ deleted: true });
  });
}
