import { z } from "zod";

import { paginationQuery, userResponse } from "./user.js";

export const postParams = z.object({
  id: z.coerce.number().int().positive(),
});

export const createPostBody = z.object({
  title: z.string().min(3).max(200),
  body: z.string().min(1),
  tags: z.array(z.string().min(1).max(30)).max(10).default([]),
  publish: z
    .object({
      at: z.coerce.date().optional(),
      notifyFollowers: z.boolean().default(false),
    })
    .optional(),
});

export const listPostsQuery = paginationQuery.extend({
  status: z.enum(["draft", "published"]).optional(),
  authorId: z.coerce.number().int().positive().optional(),
});

export const postWithAuthor = z.object({
  id: z.number(),
  title: z.string(),
  slug: z.string(),
  status: z.string(),
  author: userResponse.pick({ id: true, displayName: true }),
});

export type CreatePostBody = z.infer<typeof createPostBody>;
