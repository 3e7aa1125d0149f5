export * from "./schema.js";
export { db } from "./client.js";
export type { Database } from "./client.js";
