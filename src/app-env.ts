import type { WorkerEnv } from "./config";

/** Per-request values middleware hands down the chain. */
export interface AppVariables {
  /** The parsed JSON object body of an AppServer request. */
  body: Record<string, unknown>;
  operationID?: string;
  /** The errCode the answer carried, for the request log. */
  errCode?: number;
}

export type AppEnv = { Bindings: WorkerEnv; Variables: AppVariables };
