// Request and answer schemas of API tokens and service accounts. Browser-safe: the SDK and the CLI
// share them with the server.
import { z } from "zod";
import { ROLES } from "../lib/permissions.ts";
import { isoDateTime, pageQuery } from "./common.ts";

/** Every token starts with this, so secret scanners and people can tell what it is. */
export const TOKEN_PREFIX = "oc_";
/** The longest expiry a token may be given, in days. */
export const TOKEN_MAX_DAYS = 3650;

const role = z.enum(ROLES, { error: `must be one of ${ROLES.join(", ")}` });
const tokenName = z.string().trim().min(1, "must not be empty").max(100);

/**
 * Body of POST /api/tokens. `role` defaults to the owner's role and may not be higher; `expiresAt`
 * (a future ISO date-time) or `expiresInDays` set an expiry, neither means the token never expires.
 * `userId` names a service account to create the token for (admins only); left out: the caller.
 */
export const createTokenBody = z
  .strictObject({
    name: tokenName,
    role: role.optional(),
    expiresAt: isoDateTime.optional(),
    expiresInDays: z.int({ error: "must be a whole number of days" }).min(1, `must be from 1 to ${TOKEN_MAX_DAYS}`).max(TOKEN_MAX_DAYS, `must be from 1 to ${TOKEN_MAX_DAYS}`).optional(),
    userId: z.uuid({ error: "must be a user id (UUID)" }).optional(),
  })
  .refine((body) => body.expiresAt === undefined || body.expiresInDays === undefined, { path: ["expiresInDays"], message: "give expiresAt or expiresInDays, not both" });

/** Query of GET /api/tokens: `scope=mine` (the default) or, for admins, `scope=all` or one user's (`userId`). */
export const tokenListQuery = pageQuery.extend({
  scope: z.enum(["mine", "all"], { error: 'must be "mine" or "all"' }).default("mine"),
  userId: z.uuid({ error: "must be a user id (UUID)" }).optional(),
  /** Revoked and expired tokens are listed too unless `active=true`. */
  active: z.enum(["true", "false"], { error: 'must be "true" or "false"' }).transform((v) => v === "true").optional(),
});

const username = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[\p{L}\p{N}._@-]+$/u, "may hold only letters, digits, '.', '_', '@' and '-'");

/** Body of POST /api/service-accounts. */
export const createServiceAccountBody = z.strictObject({
  username,
  role,
  displayName: z.string().trim().min(1).max(200).nullish(),
});

/** Query of GET /api/service-accounts. */
export const serviceAccountListQuery = pageQuery;

/** A token as every answer shows it: never its value, which only the create answer carries once. */
export const tokenView = z.object({
  id: z.uuid(),
  name: z.string(),
  role: role,
  owner: z.object({ id: z.uuid(), username: z.string(), kind: z.enum(["human", "service"]) }),
  createdAt: z.string(),
  createdBy: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  /** active, expired or revoked, as of the answer. */
  status: z.enum(["active", "expired", "revoked"]),
});

/** The answer of POST /api/tokens: the token's view and, this once, its value. */
export const createdToken = tokenView.extend({ token: z.string().startsWith(TOKEN_PREFIX) });

/** A page of tokens. */
export const tokenList = z.object({ items: z.array(tokenView), nextCursor: z.string().nullable() });

/** A service account: a user that cannot sign in and acts only through its tokens. */
export const serviceAccountView = z.object({
  id: z.uuid(),
  username: z.string(),
  displayName: z.string().nullable(),
  role: role,
  disabled: z.boolean(),
  createdAt: z.string(),
  activeTokens: z.number().int(),
});

/** A page of service accounts. */
export const serviceAccountList = z.object({ items: z.array(serviceAccountView), nextCursor: z.string().nullable() });

export type CreateToken = z.infer<typeof createTokenBody>;
export type TokenListQuery = z.infer<typeof tokenListQuery>;
export type TokenView = z.infer<typeof tokenView>;
export type CreatedToken = z.infer<typeof createdToken>;
export type CreateServiceAccount = z.infer<typeof createServiceAccountBody>;
export type ServiceAccountView = z.infer<typeof serviceAccountView>;
