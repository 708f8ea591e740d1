// The token pages' forms: the API's create body, flat enough for a form (expiry as a choice of days).
import { z } from "zod";
import { ROLES } from "../lib/permissions.ts";
import type { CreateToken } from "./tokens.ts";

/** The expiry choices the pages offer. */
export const EXPIRY_OPTIONS = [
  { value: "7", label: "In 7 days" },
  { value: "30", label: "In 30 days" },
  { value: "90", label: "In 90 days" },
  { value: "365", label: "In a year" },
  { value: "never", label: "Never" },
] as const;

/** The create-token form (own tokens; the admin page adds the service account). */
export const createTokenForm = z.object({
  intent: z.literal("create"),
  name: z.string({ error: "Give the token a name." }).trim().min(1, "Give the token a name.").max(100),
  role: z.enum(ROLES, { error: `Pick one of ${ROLES.join(", ")}.` }),
  expiresInDays: z.enum(EXPIRY_OPTIONS.map((o) => o.value) as [string, ...string[]], { error: "Pick when it expires." }),
  userId: z.uuid({ error: "Pick a service account." }).optional(),
});

/** The revoke form of a table row. */
export const revokeTokenForm = z.object({ intent: z.literal("revoke"), id: z.uuid() });

/** The API's create body from the form. */
export function tokenFormInput(value: z.output<typeof createTokenForm>): CreateToken {
  return { name: value.name, role: value.role, ...(value.expiresInDays === "never" ? {} : { expiresInDays: Number(value.expiresInDays) }), ...(value.userId ? { userId: value.userId } : {}) };
}
