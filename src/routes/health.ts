import { ok } from "./answer";
import { factory } from "./factory";

/** GET /healthz: the worker answers. No secret, no storage, no Durable Object. */
export const health = factory.createHandlers((c) => ok(c));
