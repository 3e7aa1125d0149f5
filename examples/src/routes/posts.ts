import type { FastifyInstance } from "fastify";
import { and, desc, eq } from "drizzle-orm";

import { db } from "../db/client.js";
import { comments, posts, users } from "../db/schema.js";
import { createPostBody, listPostsQuery, postParams } from "@/schemas/post.js";

function slugify(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
}

export async function postRoutes(app: FastifyInstance) {
  app.get("/posts", { schema: { querystring: listPostsQuery } }, async (request) => {
    const query = listPostsQuery.parse(request.query);
    const filters = [];
    if (query.status) filters.push(eq(posts.status, query.status));
    if (query.authorId) filters.push(eq(posts.authorId, query.authorId));
    const rows = await db
      .select()
      .from(posts)
      .where(and(...filters))
      .orderBy(desc(posts.publishedAt))
      .limit(query.limit)
      .offset(query.offset);
    const result = [];
    for (const post of rows) {
      const [author] = await db.select().from(users).where(eq(users.id, post.authorId));
      result.push({ ...post, author });
    }
    return result;
  });

  app.get("/posts/:id", { schema: { params: postParams } }, async (request, reply) => {
    const { id } = postParams.parse(request.params);
    const post = await db.query.posts.findFirst({
      where: eq(posts.id, id),
      with: { author: true, comments: true },
    });
    if (!post) {
      return reply.code(404).send({ error: "Post not found" });
    }
    return post;
  });

  app.post("/posts", { schema: { body: createPostBody } }, async (request, reply) => {
    const body = createPostBody.parse(request.body);
    const authorId = Number(request.headers["x-user-id"]);
    const [created] = await db
      .insert(posts)
      .values({
        authorId,
        title: body.title,
        slug: slugify(body.title),
        body: body.body,
        status: body.publish ? "published" : "draft",
        publishedAt: body.publish ? (body.publish.at ?? new Date()) : null,
      })
      .returning();
    return reply.code(201).send(created);
  });

  app.get("/posts/:id/comments", async (request) => {
    const { id } = request.params as { id: string };
    return db.select().from(comments).where(eq(comments.postId, Number(id)));
  });
}
