"""Everything that knows Fastify, Drizzle, Zod and tRPC, read from syntax trees.

`routes` (Fastify registrations and their options), `drizzle` (tables, columns, indexes,
relations, the dialect), `queries` (Drizzle query chains), `zod` (schema shapes), `trpc`
(procedures), `targets` (which calls are units of their own), `code_facts` (what the intents
read), `hover_facts` (what a hover says). Actions, hover and context all read from here, so a rule
is fixed in one place. Nothing here does I/O except through the lookups callers pass in.
"""
