import { zValidator } from "@hono/zod-validator";
import type { ValidationTargets } from "hono";
import type { z } from "zod";
import { ApiError } from "../errors";
import { describeIssues } from "../schemas";

/** zod validation whose failures become a 400 naming each field and rule. */
export function validate<Target extends keyof ValidationTargets, Schema extends z.ZodType>(
  target: Target,
  schema: Schema,
) {
  return zValidator(target, schema, (result) => {
    if (!result.success) throw ApiError.badRequest(describeIssues(result.error));
  });
}
