import Fastify, { type FastifyError } from "fastify";
import sensible from "@fastify/sensible";
import { ZodError } from "zod";

import { HttpError } from "./lib/errors.js";
import { healthRoutes } from "./routes/health.js";
import { postRoutes } from "./routes/posts.js";
import { userRoutes } from "./routes/users.js";

export async function buildApp() {
  const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? "info" } });

  await app.register(sensible);
  await app.register(healthRoutes);
  await app.register(userRoutes, { prefix: "/api" });
  await app.register(postRoutes, { prefix: "/api" });

  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    if (error instanceof ZodError) {
      return reply.code(400).send({ error: "Invalid request", issues: error.issues });
    }
    if (error instanceof HttpError) {
      return reply.code(error.statusCode).send({ error: error.message });
    }
    request.log.error({ err: error }, "unhandled error");
    return reply.code(500).send({ error: "Internal server error" });
  });

  return app;
}
