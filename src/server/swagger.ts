/**
 * @module
 * The API documentation, served by the binary itself so it works without internet:
 * `GET /swagger` is a small HTML page of ours that loads Swagger UI's script and
 * stylesheet from `/swagger/assets/` (files of the `swagger-ui-dist` package embedded at
 * build time through `with { type: "file" }`) and the document from `/swagger/json`.
 * No URL in the page leaves this server.
 */
import { Elysia } from "elysia";
import bundlePath from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "file" };
import cssPath from "swagger-ui-dist/swagger-ui.css" with { type: "file" };

export const SWAGGER_PATH = "/swagger";
export const OPENAPI_PATH = "/swagger/json";

const PAGE = `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>kvdb API</title>
  <link rel="stylesheet" href="/swagger/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/swagger/assets/swagger-ui-bundle.js"></script>
  <script>
    // validatorUrl: null — the default posts the document to validator.swagger.io.
    window.ui = SwaggerUIBundle({ url: "/swagger/json", dom_id: "#swagger-ui", deepLinking: true, validatorUrl: null });
  </script>
</body>
</html>
`;

const hidden = { detail: { hide: true } };

/** Routes of the documentation; `document` builds the OpenAPI JSON when asked. */
export function swaggerRoutes(document: () => unknown) {
  return new Elysia({ name: "kvdb-swagger" })
    .get(SWAGGER_PATH, () => new Response(PAGE, { headers: { "content-type": "text/html; charset=utf-8" } }), hidden)
    .get(OPENAPI_PATH, () => Response.json(document()), hidden)
    .get("/swagger/assets/swagger-ui-bundle.js", () => asset(bundlePath, "text/javascript; charset=utf-8"), hidden)
    .get("/swagger/assets/swagger-ui.css", () => asset(cssPath, "text/css; charset=utf-8"), hidden);
}

function asset(path: string, type: string): Response {
  return new Response(Bun.file(path), { headers: { "content-type": type, "cache-control": "public, max-age=86400" } });
}
