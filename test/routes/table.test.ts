import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { Route } from "../../protocol";
import { app } from "../../src/index";
import type { OpenApiDocument } from "../../src/openapi/document";
import { ROUTE_TABLE } from "../../src/routes/table";

/** Routes the app really registered, as "METHOD path" (405 catch-alls and middleware left out). */
function registeredRoutes(): Set<string> {
  return new Set(app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`));
}

async function documentedOperations(): Promise<Set<string>> {
  const document: OpenApiDocument = await (await SELF.fetch("http://im.test/openapi.json")).json();
  return new Set(
    Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
    ),
  );
}

describe("the route table", () => {
  it("is what the app registers, and every registered API route is a path of the OpenAPI document", async () => {
    const documented = await documentedOperations();
    // A documented HEAD is served by the GET route of its path: the app registers no HEAD of its own.
    const served = new Set([...documented].map((operation) => operation.replace(/^HEAD /, "GET ")));
    const pages = new Set(ROUTE_TABLE.filter((entry) => !entry.doc).map((e) => `${e.route.method} ${e.route.path}`));
    expect(registeredRoutes()).toEqual(new Set([...served, ...pages]));
    expect([...documented].filter((operation) => operation.startsWith("HEAD "))).toEqual(["HEAD /healthz"]);
    expect([...pages].sort()).toEqual([
      "GET /console",
      "GET /console/app.js",
      "POST /console/events",
      "POST /console/webhook",
    ]);
    expect(documented).toContain("GET /openapi.json");
    expect(documented).toContain("GET /docs");
  });

  it("declares every route of the shared protocol module, once", () => {
    const declared = ROUTE_TABLE.map((entry) => entry.route);
    expect(new Set(declared)).toEqual(new Set(Object.values(Route)));
    expect(declared).toHaveLength(Object.values(Route).length);
  });
});

describe("GET /healthz", () => {
  it("answers 200 with the success envelope, without a secret", async () => {
    const response = await SELF.fetch("http://im.test/healthz");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ errCode: 0, errMsg: "" });
  });

  it("answers HEAD like GET, without the body, as the document says", async () => {
    const [get, head] = await Promise.all([
      SELF.fetch("http://im.test/healthz"),
      SELF.fetch("http://im.test/healthz", { method: "HEAD" }),
    ]);
    expect(head.status).toBe(200);
    expect(head.headers.get("Content-Type")).toBe(get.headers.get("Content-Type"));
    expect(await head.text()).toBe("");
    expect(await documentedOperations()).toContain("HEAD /healthz");
  });

  it("answers other methods with 405, allowing GET and HEAD", async () => {
    const response = await SELF.fetch("http://im.test/healthz", { method: "POST" });
    expect(response.status).toBe(405);
    expect(response.headers.get("Allow")).toBe("GET, HEAD");
    expect(await response.json()).toEqual({
      errCode: 405,
      errMsg: "method POST not allowed on /healthz; use GET, HEAD",
    });
  });
});
