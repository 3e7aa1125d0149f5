"""Everything that knows Fastify, Hono, Drizzle, Zod and tRPC, read from syntax trees.

`routes` (registrations, the framework each follows, plugin-wide hooks), `hono` (Hono's
middleware, validators and context), `validation` (route options, validation, what handlers read),
`drizzle` (tables, columns, indexes, relations, the dialect), `queries` (Drizzle query chains),
`coverage` (which index serves a query), `zod` (what a schema accepts), `trpc` (procedures), `lookup`
(names followed through the finder), `targets` (which calls are units of their own),
`code_facts` (what the intents read), `hover_facts` (what a hover says), `findings` (the facts
as findings for diagnostics). Actions, hover and context all read from here, so a rule
is fixed in one place. Nothing here does I/O except through the lookups callers pass in.
"""
