import { z } from "zod";

type JsonSchema = Record<string, unknown>;

interface CustomCheckDef {
  check: string;
  error?: (issue: object) => unknown;
}

/**
 * Rules zod can only check with a function (.refine), read back as the very
 * messages a 400 would carry, so the document lists them word for word.
 */
function refinementMessages(schema: z.core.$ZodType): string[] {
  const checks = (schema._zod.def as { checks?: z.core.$ZodCheck[] }).checks ?? [];
  return checks
    .map((check) => check._zod.def as CustomCheckDef)
    .filter((def) => def.check === "custom" && typeof def.error === "function")
    .map((def) => def.error?.({}))
    .filter((message): message is string => typeof message === "string");
}

/**
 * The JSON Schema of a request schema, exactly as the validators see input:
 * limits come from the schemas' own checks and .meta(), refinements from their messages.
 */
export function requestJsonSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, {
    io: "input",
    override: ({ zodSchema, jsonSchema }) => {
      const rules = refinementMessages(zodSchema);
      if (rules.length) (jsonSchema as JsonSchema)["x-rules"] = rules;
    },
  }) as JsonSchema;
  return json;
}

/** The JSON Schema of an answer shape (documentation only: answers are built by the routes). */
export function responseJsonSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { io: "output" }) as JsonSchema;
  return json;
}
