import { z } from "zod";

export const paginationQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  offset: z.coerce.number().int().min(0).default(0),
});

export const userParams = z.object({
  id: z.coerce.number().int().positive(),
});

export const createUserBody = z.object({
  email: z.string().email().max(320),
  displayName: z.string().min(1).max(80),
  role: z.enum(["member", "editor", "admin"]).default("member"),
});

export const updateUserBody = createUserBody.partial().extend({
  isActive: z.boolean().optional(),
});

export const userResponse = z.object({
  id: z.number(),
  email: z.string(),
  displayName: z.string(),
  role: z.string(),
  isActive: z.boolean(),
  createdAt: z.date(),
});

export type CreateUserBody = z.infer<typeof createUserBody>;
export type UpdateUserBody = z.infer<typeof updateUserBody>;
