import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ErrCode, PLATFORM_NAMES } from "../../protocol";
import {
  type OpenApiDocument,
  type OpenApiOperation,
  type OpenApiResponse,
  resolveResponse,
} from "../../src/openapi/document";
import {
  errorEnvelopeSchema,
  errorFrameSchema,
  onlineStatusAnswerSchema,
  openApiDocumentSchema,
  presenceFrameSchema,
  tokenAnswerSchema,
} from "../../src/openapi/responses";
import { ROUTE_TABLE } from "../../src/routes/table";
import { LIMITS } from "../../src/schemas";
import { freshUid, post, SECRET } from "../helpers";
import { online, WatchingSocket } from "../presence/subscription-helpers";

type Json = Record<string, unknown>;

async function fetchDocument(): Promise<OpenApiDocument> {
  const response = await SELF.fetch("http://im.test/openapi.json");
  expect(response.status).toBe(200);
  expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
  return response.json();
}

function operations(doc: OpenApiDocument): [string, OpenApiOperation][] {
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.values(methods).map((op): [string, OpenApiOperation] => [path, op]),
  );
}

function requestSchema(doc: OpenApiDocument, path: string): Json {
  const ref = doc.paths[path]?.post?.requestBody?.content["application/json"].schema.$ref;
  expect(ref, `request schema of ${path}`).toBeTypeOf("string");
  const schema = doc.components.schemas[String(ref).split("/").pop()!];
  expect(schema).toBeDefined();
  return schema!;
}

function property(schema: Json, name: string): Json {
  return (schema.properties as Record<string, Json>)[name]!;
}

function documentedResponse(doc: OpenApiDocument, op: OpenApiOperation, status: number): OpenApiResponse | undefined {
  const response = op.responses[String(status)];
  return response && resolveResponse(doc, response);
}

/** The errCodes a documented answer may carry, from its schema. */
function documentedCodes(doc: OpenApiDocument, op: OpenApiOperation, status: number): number[] {
  const schema = documentedResponse(doc, op, status)?.content?.["application/json"]?.schema as Json | undefined;
  const errCode = (schema?.properties as Record<string, Json> | undefined)?.errCode;
  if (!errCode) return [];
  if (Array.isArray(errCode.enum)) return errCode.enum as number[];
  return errCode.const === undefined ? [] : [errCode.const as number];
}

const REGISTER_BASE = { secret: SECRET, platform: 1, name: "n" };

describe("GET /openapi.json", () => {
  it("is an OpenAPI 3.1 document with the four AppServer routes and the WebSocket connect at / and /ws", async () => {
    const doc = await fetchDocument();
    expect(doc.openapi).toBe("3.1.0");
    for (const path of [
      "/auth/user_register",
      "/auth/user_token",
      "/auth/force_logout",
      "/user/get_users_online_status",
    ]) {
      expect(doc.paths[path]?.post, path).toBeDefined();
    }
    for (const path of ["/", "/ws"]) {
      const connect = doc.paths[path]?.get;
      expect(connect?.responses["101"], path).toBeDefined();
      expect(connect?.parameters?.map((p) => p.name)).toEqual([
        "sendID",
        "token",
        "platformID",
        "operationID",
        "Upgrade",
      ]);
      expect(connect?.parameters?.filter((p) => p.required).map((p) => p.name)).toEqual([
        "sendID",
        "token",
        "platformID",
        "Upgrade",
      ]);
    }
  });

  it("documents itself and its page, and the answers match", async () => {
    const doc = await fetchDocument();
    const self = doc.paths["/openapi.json"]?.get;
    expect(self?.responses["200"]).toMatchObject({
      content: { "application/json": { schema: { $ref: "#/components/schemas/OpenApiDocument" } } },
    });
    expect(openApiDocumentSchema.safeParse(doc).success).toBe(true);
    expect(doc.paths["/docs"]?.get?.responses["200"]).toMatchObject({
      content: { "text/html": { schema: { type: "string" } } },
    });
    expect((await SELF.fetch("http://im.test/docs")).headers.get("Content-Type")).toMatch(/^text\/html/);
    for (const op of [self, doc.paths["/docs"]?.get]) expect(op?.tags).toEqual(["Documentation"]);
    expect(doc.tags.map((tag) => tag.name)).toContain("Documentation");
  });

  it("says what every operation asks of its caller: the body secret, the client token, or nothing", async () => {
    const doc = await fetchDocument();
    const webhooks = Object.values(doc.webhooks).map((item): [string, OpenApiOperation] => ["(webhook)", item.post]);
    for (const [path, op] of [...operations(doc), ...webhooks]) {
      const where = `${op.operationId} at ${path}`;
      if (op.tags.includes("AppServer")) {
        // The secret is a body field: no scheme can name it, so none is claimed; the extension says where it is.
        expect(op.security, where).toEqual([{}]);
        expect(op["x-body-secret"], where).toMatchObject({ in: "body", field: "secret" });
        const request = requestSchema(doc, path);
        expect(request.required, where).toContain("secret");
        expect(property(request, "secret"), where).toMatchObject({ type: "string" });
      } else if (op.tags.includes("Client sessions")) {
        expect(op.security, where).toEqual([{ ClientToken: [] }]);
        expect(op.parameters?.find((p) => p.name === "token")).toMatchObject({ in: "query", required: true });
      } else {
        expect(op.security, where).toEqual([{}]);
        expect(op["x-body-secret"], where).toBeUndefined();
      }
    }
    expect(doc.components.securitySchemes.ClientToken).toMatchObject({ type: "apiKey", in: "query", name: "token" });
  });

  // A route added to ROUTE_TABLE as "appServer" is checked here as soon as it exists.
  it("gives every AppServer route of the table the body secret, the 401 and the 405, with nothing in its entry", async () => {
    const doc = await fetchDocument();
    const appServer = ROUTE_TABLE.filter((entry) => entry.doc?.kind === "appServer");
    expect(appServer.length).toBeGreaterThanOrEqual(4);
    for (const { route } of appServer) {
      const op = doc.paths[route.path]?.[route.method.toLowerCase() as "post"];
      expect(op, route.path).toBeDefined();
      expect(op!.security, route.path).toEqual([{}]);
      expect(op!["x-body-secret"]?.field, route.path).toBe("secret");
      expect(documentedCodes(doc, op!, 401), route.path).toEqual([ErrCode.notAuthorized]);
      expect(op!.responses["405"], route.path).toEqual({ $ref: "#/components/responses/MethodNotAllowed" });
    }
  });

  it("names the server it was fetched from", async () => {
    expect((await fetchDocument()).servers).toEqual([{ url: "http://im.test" }]);
  });

  it("lists every errCode of errors.ts with its HTTP statuses, and each one in some route's answers", async () => {
    const doc = await fetchDocument();
    const listed = doc["x-error-codes"].map((c) => c.code);
    expect(listed.sort()).toEqual(Object.values(ErrCode).sort());
    const inRoutes = new Set(
      operations(doc).flatMap(([, op]) =>
        Object.keys(op.responses).flatMap((status) => documentedCodes(doc, op, Number(status))),
      ),
    );
    // 404 is the answer for paths that are not operations, so no operation lists it: the description does.
    for (const code of Object.values(ErrCode).filter((c) => c !== ErrCode.ok && c !== ErrCode.notFound)) {
      expect(inRoutes.has(code), `errCode ${code} appears in a route's answers`).toBe(true);
    }
    expect(inRoutes.has(ErrCode.notFound)).toBe(false);
    expect(doc.info.description).toContain("A path not listed here answers 404 (errCode 404)");
  });

  it("gives every operation the MethodNotAllowed 405, with its Allow header, and the app's 405s match it", async () => {
    const doc = await fetchDocument();
    const notAllowed = doc.components.responses.MethodNotAllowed;
    expect(notAllowed?.headers?.Allow).toMatchObject({ required: true, schema: { type: "string" } });
    for (const [path, op] of operations(doc)) {
      expect(op.responses["405"], `${op.operationId} at ${path}`).toEqual({
        $ref: "#/components/responses/MethodNotAllowed",
      });
    }
    for (const [path, methods] of Object.entries(doc.paths)) {
      const response = await SELF.fetch(`http://im.test${path}`, { method: "PATCH" });
      expect(response.status, path).toBe(405);
      const allowed = response.headers.get("Allow")?.split(", ") ?? [];
      expect(allowed, path).toEqual(expect.arrayContaining(Object.keys(methods).map((m) => m.toUpperCase())));
      const body = await response.json();
      expect(documentedCodes(doc, Object.values(methods)[0]!, 405), path).toContain((body as Json).errCode);
    }
  });

  it("answers an unknown path with the 404 the description names", async () => {
    const response = await SELF.fetch("http://im.test/auth/nope", { method: "POST" });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ errCode: ErrCode.notFound });
  });

  it("shows the token codes 701–706 on the handshake's 401 and the close codes 4001–4006 and 1008", async () => {
    const doc = await fetchDocument();
    expect(documentedCodes(doc, doc.paths["/ws"]!.get!, 401).sort()).toEqual([701, 702, 703, 704, 705, 706]);
    const closeCodes = [4001, 4002, 4003, 4004, 4005, 4006, 1008];
    expect(doc["x-websocket"].closeCodes.map((c) => c.code)).toEqual(closeCodes);
    expect(doc["x-websocket"].heartbeat).toMatchObject({ send: "ping", answer: "pong", timeoutSeconds: 30 });
    for (const code of closeCodes) expect(doc.paths["/"]!.get!.description).toContain(String(code));
  });

  it("lists a 429 with Retry-After on the handshake and on every AppServer route", async () => {
    const doc = await fetchDocument();
    const limited = operations(doc).filter(
      ([, op]) => op.tags.includes("AppServer") || op.tags.includes("Client sessions"),
    );
    expect(limited.length).toBe(16);
    for (const [path, op] of limited) {
      expect(documentedCodes(doc, op, 429), path).toEqual([429]);
      expect(documentedResponse(doc, op, 429)?.headers?.["Retry-After"], path).toMatchObject({
        schema: { type: "integer" },
      });
    }
  });

  it("documents the Upgrade header a 426 carries, and a real 426 carries it", async () => {
    const doc = await fetchDocument();
    for (const path of ["/", "/ws"]) {
      expect(documentedResponse(doc, doc.paths[path]!.get!, 426)?.headers?.Upgrade, path).toMatchObject({
        required: true,
        schema: { const: "websocket" },
      });
      const refused = await SELF.fetch(`http://im.test${path}?sendID=a&token=b&platformID=1`);
      expect(refused.status, path).toBe(426);
      expect(refused.headers.get("Upgrade"), path).toBe("websocket");
      expect(documentedCodes(doc, doc.paths[path]!.get!, 426)).toContain(
        (await refused.json<{ errCode: number }>()).errCode,
      );
    }
  });

  it("shows every field limit of schemas.ts on the field it limits", async () => {
    const doc = await fetchDocument();
    const register = requestSchema(doc, "/auth/user_register");
    const status = requestSchema(doc, "/user/get_users_online_status");
    const shown: Record<keyof typeof LIMITS, unknown> = {
      uidChars: property(register, "uid").maxLength,
      nameChars: property(register, "name").maxLength,
      iconBytes: property(register, "icon")["x-maxBytes"],
      mobileChars: property(register, "mobile").maxLength,
      birthChars: property(register, "birth").maxLength,
      emailChars: property(register, "email").maxLength,
      exChars: property(register, "ex").maxLength,
      operationIdChars: property(register, "operationID").maxLength,
      userIdListLength: property(status, "userIDList").maxItems,
      userInfoListLength: property(requestSchema(doc, "/user/get_user_info"), "uidList").maxItems,
      manageListLength: property(requestSchema(doc, "/manager/delete_user"), "deleteUidList").maxItems,
      pageLimit: property(requestSchema(doc, "/manager/get_all_users_uid"), "limit").maximum,
      banReasonChars: property(requestSchema(doc, "/manager/ban_user"), "reason").maxLength,
      connIdChars: property(requestSchema(doc, "/auth/force_logout"), "connID").maxLength,
      grantsPerCall: property(requestSchema(doc, "/manager/set_presence_grants"), "add").maxItems,
    };
    expect(property(requestSchema(doc, "/manager/account_check"), "userIDList").maxItems).toBe(LIMITS.manageListLength);
    expect(shown).toEqual(LIMITS);
    expect(doc["x-limits"]).toMatchObject({ ...LIMITS, maxBodyBytes: 65536 });
    expect(property(register, "platform")).toMatchObject({ type: "integer", minimum: 1, maximum: 7 });
    expect(property(register, "gender")).toMatchObject({ type: "integer", minimum: 0, maximum: 2 });
    expect(property(register, "uid")["x-rules"]).toEqual([
      "must not be empty",
      "at most 64 characters",
      "must be well-formed Unicode (no lone surrogates)",
      "must not contain control characters (Unicode Cc)",
      "must not contain format characters (Unicode Cf: zero-width, joiners, bidi controls, BOM)",
      "must not contain white space (Unicode White_Space: spaces of any width, NBSP, U+3000, line and paragraph separators)",
      "must not contain default-ignorable characters (Unicode Default_Ignorable_Code_Point: fillers, variation selectors, U+034F)",
      "must be unchanged by NFKC (no fullwidth, mathematical, ligature or other compatibility forms, no decomposed letters)",
    ]);
    expect(property(status, "userIDList").items).toMatchObject({
      "x-rules": expect.arrayContaining(["must be well-formed Unicode (no lone surrogates)"]),
    });
    expect(register.required).toEqual(["secret", "platform", "uid", "name"]);
    expect(doc["x-platforms"]).toEqual(PLATFORM_NAMES);
  });

  it("documents limits the validators really enforce: one past each documented maximum is a 400 naming the field", async () => {
    const doc = await fetchDocument();
    const register = requestSchema(doc, "/auth/user_register");
    const properties = register.properties as Record<string, Json>;
    const limited = Object.entries(properties).filter(
      ([, p]) => typeof p.maxLength === "number" || typeof p["x-maxBytes"] === "number",
    );
    expect(limited.length).toBeGreaterThanOrEqual(8);
    for (const [field, schema] of limited) {
      const max = (schema.maxLength ?? schema["x-maxBytes"]) as number;
      // "é" is one character but two bytes: over the byte limit at max/2 + 1, over the character limit at max + 1.
      const over = typeof schema.maxLength === "number" ? "é".repeat(max + 1) : "é".repeat(max / 2 + 1);
      const atLimit = typeof schema.maxLength === "number" ? "é".repeat(max) : "é".repeat(max / 2);
      const tooLong = await post("/auth/user_register", { ...REGISTER_BASE, uid: freshUid(), [field]: over });
      expect(tooLong.status, field).toBe(400);
      expect(tooLong.body.errMsg, field).toMatch(new RegExp(`^${field}: `));
      if (field === "operationID") continue;
      // A uid at its limit must still be unique: a fresh uid padded to the maximum.
      const unique = freshUid();
      const fitting = field === "uid" ? unique + "é".repeat(max - unique.length) : atLimit;
      const fits = await post("/auth/user_register", { ...REGISTER_BASE, uid: freshUid(), [field]: fitting });
      expect(fits.status, `${field} at its limit`).toBe(200);
    }
    const list = property(requestSchema(doc, "/user/get_users_online_status"), "userIDList").maxItems as number;
    const overList = await post("/user/get_users_online_status", {
      secret: SECRET,
      userIDList: Array(list + 1).fill("u"),
    });
    expect(overList.status).toBe(400);
  });

  it("describes the answers the routes really give", async () => {
    const doc = await fetchDocument();
    const uid = freshUid();
    const registered = await post("/auth/user_register", { ...REGISTER_BASE, uid });
    expect(tokenAnswerSchema.safeParse(registered.body).success).toBe(true);

    const status = await post("/user/get_users_online_status", { secret: SECRET, userIDList: [uid, "nobody"] });
    expect(onlineStatusAnswerSchema.safeParse(status.body).success).toBe(true);

    const again = await post("/auth/user_register", { ...REGISTER_BASE, uid });
    const registerOp = doc.paths["/auth/user_register"]!.post!;
    expect(documentedCodes(doc, registerOp, again.status)).toContain(again.body.errCode);
    expect(errorEnvelopeSchema([ErrCode.alreadyRegistered]).safeParse(again.body).success).toBe(true);

    const unknown = await post("/auth/user_token", { secret: SECRET, platform: 1, uid: freshUid() });
    expect(documentedCodes(doc, doc.paths["/auth/user_token"]!.post!, unknown.status)).toContain(unknown.body.errCode);

    const badSecret = await post("/auth/force_logout", { secret: "wrong", platform: 1, uid });
    expect(documentedCodes(doc, doc.paths["/auth/force_logout"]!.post!, badSecret.status)).toContain(
      badSecret.body.errCode,
    );
  });

  it("uses every component it declares, from the parts of the document OpenAPI tools read", async () => {
    const doc = await fetchDocument();
    // Tools follow $refs in paths, webhooks and components, never inside x- extensions.
    const withoutExtensions = (node: unknown): unknown =>
      Array.isArray(node)
        ? node.map(withoutExtensions)
        : typeof node === "object" && node !== null
          ? Object.fromEntries(
              Object.entries(node)
                .filter(([key]) => !key.startsWith("x-"))
                .map(([key, value]) => [key, withoutExtensions(value)]),
            )
          : node;
    const read = JSON.stringify(withoutExtensions({ paths: doc.paths, webhooks: doc.webhooks, c: doc.components }));
    for (const [kind, entries] of Object.entries({
      schemas: doc.components.schemas,
      responses: doc.components.responses,
    })) {
      for (const name of Object.keys(entries)) {
        expect(read, `components/${kind}/${name}`).toContain(`"#/components/${kind}/${name}"`);
      }
    }
    for (const name of Object.keys(doc.components.securitySchemes)) {
      expect(read, `securitySchemes/${name}`).toContain(`{"${name}":[]}`);
    }
  });

  it("documents the 101 that opens a session with the headers of RFC 6455's handshake", async () => {
    const doc = await fetchDocument();
    for (const path of ["/", "/ws"]) {
      const opened = documentedResponse(doc, doc.paths[path]!.get!, 101);
      expect(Object.keys(opened?.headers ?? {}), path).toEqual(["Upgrade", "Connection", "Sec-WebSocket-Accept"]);
      expect(opened?.headers?.Upgrade?.schema, path).toEqual({ const: "websocket" });
    }
  });

  it("has a description for every request field and every $ref resolves", async () => {
    const doc = await fetchDocument();
    for (const [name, schema] of Object.entries(doc.components.schemas).filter(([n]) => n.endsWith("Request"))) {
      for (const [field, p] of Object.entries(schema.properties as Record<string, Json>)) {
        expect(p.description, `${name}.${field}`).toBeTypeOf("string");
      }
    }
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/([^"]+)"/g)].map((match) => match[1]!);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      const target = ref.split("/").reduce<unknown>((node, key) => (node as Json | undefined)?.[key], doc);
      expect(target, ref).toBeDefined();
    }
  });
});

describe("GET /docs", () => {
  it("is an HTML page, served by the worker, that loads nothing from anywhere", async () => {
    const response = await SELF.fetch("http://im.test/docs");
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^text\/html/);
    expect(response.headers.get("Content-Security-Policy")).toContain("default-src 'none'");
    const html = await response.text();
    expect(html).not.toMatch(/<script|<link|src=|@import/i);
    expect(html).toContain('href="/openapi.json"');
  });

  it("shows every route, errCode, close code and limit", async () => {
    const html = await (await SELF.fetch("http://im.test/docs")).text();
    for (const path of [
      "/auth/user_register",
      "/auth/user_token",
      "/auth/force_logout",
      "/user/get_users_online_status",
      "/ws",
    ]) {
      expect(html).toContain(`<code>${path}</code>`);
    }
    for (const code of Object.values(ErrCode)) expect(html).toMatch(new RegExp(`<td>${code}</td>`));
    for (const code of [4001, 4002, 4003, 4004, 1008]) expect(html).toContain(`<td>${code}</td>`);
    for (const [name, value] of Object.entries(LIMITS))
      expect(html).toContain(`<td><code>${name}</code></td><td>${value}</td>`);
    expect(html).toContain("max 64 chars");
    expect(html).toContain("max 1024 bytes (UTF-8)");
    expect(html).toContain("must not contain control characters");
  });
});

describe("an unknown path next to the docs", () => {
  it("still gets the 404 envelope", async () => {
    const response = await SELF.fetch("http://im.test/docs/nope");
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ errCode: 404 });
  });
});

describe("the webhooks section (OpenAPI 3.1)", () => {
  it("describes the presence events POST: its signature header and its body", async () => {
    const doc = await fetchDocument();
    const op = doc.webhooks.presenceEvents!.post;
    expect(op.parameters?.map((p) => p.name)).toEqual(["X-IM-Signature"]);
    expect(op.requestBody?.content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/PresenceEventBody",
    });
    const body = doc.components.schemas.PresenceEventBody as { properties: { events: { maxItems: number } } };
    expect(body.properties.events.maxItems).toBe(100);
  });
});

describe("the WebSocket part: presence subscription frames (docs/protocol.md#presence-subscriptions)", () => {
  it("documents the client and server frames and their limits, and the frames a real socket gets match them", async () => {
    const doc = await fetchDocument();
    const { frames } = doc["x-websocket"];
    expect(frames.limits).toEqual({ idsPerFrame: 200, watchedPerSocket: 3000 });
    const subscribe = frames.client.subscribe as { properties: { userIDs: { maxItems: number; minItems: number } } };
    expect(subscribe.properties.userIDs).toMatchObject({ minItems: 1, maxItems: 200 });
    for (const schema of [frames.client.unsubscribe, frames.server.presence, frames.server.error]) {
      expect(schema).toMatchObject({ type: "object", required: expect.arrayContaining(["type"]) });
    }

    const watcher = await WatchingSocket.open();
    const watched = freshUid("watched");
    await online(watched, 5);
    const [snapshot] = await watcher.subscribe([watched, freshUid("never")]).then(() => watcher.frames());
    expect(presenceFrameSchema.parse(snapshot)).toMatchObject({
      users: [{ status: "online" }, { status: "offline", seq: 0 }],
    });
    watcher.send({ type: "subscribe", userIDs: [] });
    expect(errorFrameSchema.safeParse(await watcher.nextFrame()).success).toBe(true);
    watcher.close();

    const html = await (await SELF.fetch("http://im.test/docs")).text();
    expect(html).toContain('id="presence-subscriptions"');
    expect(html).toContain("At most 200 ids per frame and 3000 per socket");
    expect(html).toContain("{&#34;type&#34;:&#34;set&#34;,&#34;background&#34;:true}");
  });

  it("documents the set frame, and entries with background and a custom status match the presence frame's schema", async () => {
    const { frames } = (await fetchDocument())["x-websocket"];
    expect(frames.client.set).toMatchObject({
      type: "object",
      properties: { invisible: { type: "boolean" }, background: { type: "boolean" }, customStatus: expect.any(Object) },
    });
    const watched = await WatchingSocket.open(freshUid("said"), 1);
    await watched.settle();
    const watcher = await WatchingSocket.open();
    await watcher.subscribe([watched.uid]);
    watched.send({
      type: "set",
      background: true,
      customStatus: { text: "Away", expiresAt: Math.floor(Date.now() / 1000) + 600 },
    });
    const frame = await watcher.nextFrame((f) => f.type === "presence" && f.users.some((u) => "customStatus" in u));
    expect(presenceFrameSchema.parse(frame)).toMatchObject({
      users: [{ background: ["IOS"], customStatus: { text: "Away" } }],
    });
    watched.close();
    watcher.close();
  });
});
