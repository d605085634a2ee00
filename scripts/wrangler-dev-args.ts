/**
 * How the Node tests and the bench start `wrangler dev`: on 127.0.0.1, with a
 * state directory of their own, settings as `--var` and no interactive session.
 * Plain TypeScript with no imports, so the bench's `.mjs` loads it too.
 */
export interface WranglerDevOptions {
  port: number;
  inspectorPort: number;
  persistTo: string;
  vars: Record<string, string>;
  /** Another entry for the same configuration (the bench's metered worker). */
  script?: string;
  /** wrangler's own default when left out. */
  logLevel?: "debug" | "info" | "log" | "warn" | "error" | "none";
}

/** The arguments after the wrangler binary. */
export function wranglerDevArgs(options: WranglerDevOptions): string[] {
  const { port, inspectorPort, persistTo, vars, script, logLevel } = options;
  return [
    "dev",
    ...(script ? [script] : []),
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--inspector-port",
    String(inspectorPort),
    "--persist-to",
    persistTo,
    "--show-interactive-dev-session=false",
    ...(logLevel ? ["--log-level", logLevel] : []),
    ...Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
  ];
}
