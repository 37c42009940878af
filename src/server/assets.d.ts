/**
 * @module
 * Types of the Swagger UI assets imported `with { type: "file" }`: Bun resolves such an
 * import to a file path (inside the compiled binary, a path in its embedded file system).
 */
declare module "swagger-ui-dist/swagger-ui-bundle.js" {
  const path: string;
  export default path;
}
declare module "swagger-ui-dist/swagger-ui.css" {
  const path: string;
  export default path;
}
