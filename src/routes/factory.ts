import { createFactory } from "hono/factory";
import type { AppEnv } from "../app-env";

/** Handlers are built with this, so validated input stays typed from middleware to handler. */
export const factory = createFactory<AppEnv>();
