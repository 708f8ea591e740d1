// Job definitions and run parameters, checked by @opsconductor/core; every problem becomes a 400
// detail with its path under the request part it came from.
import { JobDefinitionError, ParameterError, parseJobDefinition, resolveParameters, type JobDefinition, type ValidationIssue } from "@opsconductor/core";
import type { Prisma } from "@opsconductor/db";
import { ApiError, validationFailed, type ErrorDetail } from "../errors.server.ts";

/** Turns core's `{ path, message }` issues into API details under `prefix` (e.g. "body"). */
export function coreIssueDetails(issues: readonly ValidationIssue[], prefix: string): ErrorDetail[] {
  return issues.map((issue) => {
    if (issue.path === "") return { path: prefix, message: issue.message };
    const joined = issue.path.startsWith("[") ? `${prefix}${issue.path}` : `${prefix}.${issue.path}`;
    // Core's messages start with the issue's path; put the prefix in front of it.
    const message = issue.message.startsWith(issue.path) ? `${joined}${issue.message.slice(issue.path.length)}` : `${joined}: ${issue.message}`;
    return { path: joined, message };
  });
}

/** Validates a posted job definition; every problem becomes a 400 detail under `body`. */
export function parseDefinition(input: unknown): JobDefinition {
  try {
    return parseJobDefinition(input);
  } catch (error) {
    if (error instanceof JobDefinitionError) throw validationFailed(coreIssueDetails(error.issues, "body"));
    throw error;
  }
}

/** Checks supplied parameters against a job version's declarations; problems name `prefix.<name>`. */
export function checkParameters(definition: Prisma.JsonValue, supplied: Record<string, unknown>, prefix: string) {
  let parsed: JobDefinition;
  try {
    parsed = parseJobDefinition(definition);
  } catch (error) {
    if (!(error instanceof JobDefinitionError)) throw error;
    throw new ApiError(409, "definition_invalid", "the job's current version does not pass validation any more; save a corrected version first");
  }
  try {
    return resolveParameters(parsed, supplied);
  } catch (error) {
    if (error instanceof ParameterError) throw validationFailed(coreIssueDetails(error.issues, prefix));
    throw error;
  }
}

/** The job editor's posted JSON text as a value; text that is not JSON is a 400 naming `body.definition`. */
export function parseDefinitionText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw validationFailed([{ path: "body.definition", message: "body.definition is not valid JSON" }]);
  }
}
