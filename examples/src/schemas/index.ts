export * from "./user.js";
export * from "./post.js";
