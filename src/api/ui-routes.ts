import type { Hono } from "hono";
import type { ApiLocation } from "../config/types.ts";
import { PAGE_CSS, PAGE_HTML, PAGE_ICON } from "../ui/page-html.ts";
import { PAGE_SCRIPT } from "../ui/page-script.ts";
import { renderJson } from "./json.ts";
import { mountPrefix } from "./mount-prefix.ts";

/** The page loads nothing but its own script and style, and its script talks to this origin only. */
const PAGE_HEADERS = {
  "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'",
  "X-Content-Type-Options": "nosniff",
  "Cache-Control": "no-cache",
};

/**
 * The status page on a management API app: `/ui/` (document, script, style) and
 * `/ui/status.json` (what `status()` answers: one process's, or the primary's over its workers).
 * `GET /` leads a browser to the page unless an API location is mounted there.
 */
export function mountStatusPage(app: Hono, locations: ApiLocation[], status: () => unknown | Promise<unknown>): void {
  // the app is not strict about a trailing slash, but the page's relative links need one
  app.get("/ui", (c) =>
    new URL(c.req.url).pathname.endsWith("/")
      ? c.body(PAGE_HTML, 200, { ...PAGE_HEADERS, "Content-Type": "text/html; charset=utf-8" })
      : c.redirect("/ui/", 302));
  app.get("/ui/app.js", (c) => c.body(PAGE_SCRIPT, 200, { ...PAGE_HEADERS, "Content-Type": "text/javascript; charset=utf-8" }));
  app.get("/ui/app.css", (c) => c.body(PAGE_CSS, 200, { ...PAGE_HEADERS, "Content-Type": "text/css; charset=utf-8" }));
  app.get("/ui/favicon.svg", (c) => c.body(PAGE_ICON, 200, { ...PAGE_HEADERS, "Content-Type": "image/svg+xml" }));
  app.get("/ui/status.json", async (c) =>
    c.body(renderJson(await status()), 200, { "Content-Type": "application/json", "Cache-Control": "no-store" }));
  if (!locations.some((l) => mountPrefix(l) === "/")) {
    app.get("/", (c) => c.redirect("/ui/", 302));
  }
}
