// Form parsing shared by page actions and the browser: the same zod schema, the same messages, on
// both sides. Browser-safe.
import { parseWithZod } from "@conform-to/zod/v4";
import type { z } from "zod";

/** The form field that picks which of a page's forms was submitted. */
export const INTENT_FIELD = "intent";
/** The form field that echoes the browser's CSRF token. */
export const CSRF_FIELD = "csrf";

/** A rule's message as a sentence: "must be at least 12 characters" becomes "Must be at least 12 characters." */
export function sentence(message: string): string {
  const text = message.trim();
  if (text === "") return text;
  return text.charAt(0).toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? "" : ".");
}

function issueMessage(issue: z.core.$ZodIssue): string {
  // Conform turns an empty field into a missing value: say so plainly instead of zod's type talk.
  if (issue.code === "invalid_type" && /received undefined/.test(issue.message)) return "Required.";
  if (issue.code === "too_small" && issue.origin === "string") return Number(issue.minimum) === 1 ? "Required." : `Must be at least ${issue.minimum} characters.`;
  if (issue.code === "too_big" && issue.origin === "string") return `Must be at most ${issue.maximum} characters.`;
  return sentence(issue.message);
}

/** Parses a submitted form with `schema`, with messages written for the field they stand next to. */
export function parseForm<S extends z.ZodType>(formData: FormData | URLSearchParams, schema: S) {
  return parseWithZod(formData, { schema, formatError: (issues: z.core.$ZodIssue[]) => issues.map(issueMessage) });
}

/**
 * A service's message about one field, for display next to it: the field's path goes, so
 * "body.currentPassword is not your current password" reads "This is not your current password."
 */
export function fieldMessage(message: string, path: string): string {
  const rest = message.startsWith(`${path} `) ? message.slice(path.length + 1) : message;
  return sentence(/^is /.test(rest) ? `this ${rest}` : rest);
}
