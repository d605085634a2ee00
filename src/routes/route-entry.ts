import type { H } from "hono/types";
import type { z } from "zod";
import type { KnownErrCode, Route } from "../../protocol";
import type { AppEnv } from "../app-env";

export type RouteDeclaration = (typeof Route)[keyof typeof Route];

export interface NamedSchema {
  /** Its name under components.schemas in the OpenAPI document. */
  name: string;
  schema: z.ZodType;
}

/** A JSON answer, whose schema goes under components.schemas; or an HTML page. */
export type PlainAnswer = NamedSchema | { mediaType: "text/html" };

/** How the OpenAPI document presents a route. */
export type OperationDoc =
  | {
      kind: "appServer";
      operationId: string;
      summary: string;
      description: string;
      request: NamedSchema;
      answer: NamedSchema;
      /** errCodes beyond those every AppServer route can answer, by HTTP status. */
      errors: Partial<Record<number, KnownErrCode[]>>;
    }
  | { kind: "websocket"; operationId: string }
  | {
      kind: "plain";
      operationId: string;
      tag: string;
      summary: string;
      description: string;
      answer: PlainAnswer;
      /** Also document HEAD (the app answers it with the GET handler, without the body); its operationId. */
      head?: { operationId: string };
    };

export interface RouteEntry {
  route: RouteDeclaration;
  // Each handler list is typed where it is built (with its validators); here only its place in the chain matters.
  handlers: readonly H[];
  /** The document's description; routes without one are pages, not part of the API. */
  doc?: OperationDoc;
  /** A route that can be switched off answers like an unknown path while it is off. */
  enabled?: (env: AppEnv["Bindings"]) => boolean;
}
