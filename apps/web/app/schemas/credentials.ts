// Request schemas of credentials. The secret's shape depends on the credential's type; secrets are
// write-only, so no schema here is ever used to echo one back.
import { credentialPolicySchema } from "@opsconductor/db/host-patterns";
import { CredentialType as CredentialTypes } from "@opsconductor/db/enums";
import { z } from "zod";
import { sortQuery } from "../lib/sort.ts";
import { pageQuery } from "./common.ts";

export const CREDENTIAL_TYPES = Object.values(CredentialTypes);
export type CredentialType = (typeof CREDENTIAL_TYPES)[number];
/** How each credential type is named on pages. */
export const CREDENTIAL_TYPE_LABELS: Readonly<Record<CredentialType, string>> = Object.freeze({ winrm: "WinRM", ssh: "SSH", api_key: "API key" });
const credentialType = z.enum(CREDENTIAL_TYPES, { error: `must be one of ${CREDENTIAL_TYPES.join(", ")}` });

/** The secret fields of a credential, by type. */
export type CredentialSecret = { password: string } | { privateKey: string; passphrase?: string } | { apiKey: string };

const secretText = (max: number) => z.string().min(1, "must not be empty").max(max);
const passwordSecret = z.strictObject({ password: secretText(1024) });
const sshSecret = z
  .strictObject({ password: secretText(1024).optional(), privateKey: secretText(16_384).optional(), passphrase: secretText(1024).optional() })
  .superRefine((value, ctx) => {
    if ((value.password === undefined) === (value.privateKey === undefined)) {
      ctx.addIssue({ code: "custom", path: ["password"], message: "give either password or privateKey (with an optional passphrase)" });
    } else if (value.passphrase !== undefined && value.privateKey === undefined) {
      ctx.addIssue({ code: "custom", path: ["passphrase"], message: "only goes with privateKey" });
    }
  })
  .transform((value) => value as CredentialSecret);
const apiKeySecret = z.strictObject({ apiKey: secretText(8192) });

/** The secret's shape for each credential type. */
export const secretSchemas: Record<CredentialType, z.ZodType<CredentialSecret>> = { winrm: passwordSecret, ssh: sshSecret, api_key: apiKeySecret };

const name = z.string().trim().min(1).max(100);
const metadata = {
  username: z.string().trim().max(256).nullish(),
  domain: z.string().trim().max(256).nullish(),
  description: z.string().trim().max(2000).nullish(),
};
/** Where the secret may be sent (see prisma/src/data/host-patterns.ts); empty: only admins bind it to targets. */
const usagePolicy = credentialPolicySchema;

/** Body of POST /api/credentials. */
export const createCredentialBody = z.discriminatedUnion("type", [
  z.object({ name, type: z.literal("winrm"), ...metadata, usagePolicy: usagePolicy.optional(), secret: passwordSecret }),
  z.object({ name, type: z.literal("ssh"), ...metadata, usagePolicy: usagePolicy.optional(), secret: sshSecret }),
  z.object({ name, type: z.literal("api_key"), ...metadata, usagePolicy: usagePolicy.optional(), secret: apiKeySecret }),
]);

/** Body of PUT /api/credentials/{id}. */
export const updateCredentialBody = z.object({
  name: name.optional(),
  /** Only accepted when it equals the current type: a credential's type cannot change. */
  type: credentialType.optional(),
  ...metadata,
  /** Present: replaces the whole usage policy. */
  usagePolicy: usagePolicy.optional(),
  /** Present: rotate the secret (validated against the credential's type). */
  secret: z.record(z.string(), z.unknown()).optional(),
});

/** The orders a credential list can be read in. */
export const CREDENTIAL_SORT_KEYS = ["name", "updatedAt", "createdAt"] as const;

/** Query of GET /api/credentials (and of the Credentials page). */
export const credentialListQuery = pageQuery.extend({
  type: credentialType.optional(),
  q: z.string().trim().max(200).optional(),
  sort: sortQuery(CREDENTIAL_SORT_KEYS, { key: "createdAt", direction: "desc" }).meta({ description: "Order: name, updatedAt or createdAt; a leading - for descending (default -createdAt, newest first)" }),
});

// The browser's forms. Each takes less than the API allows (an SSH credential made in the browser
// holds a private key, not a password), never more, so what a form accepts the API accepts too.

/** The SSH secret the credential form takes: a private key (pasted or read from a file) and its passphrase. */
const sshKeySecret = z.strictObject({ privateKey: secretText(16_384), passphrase: secretText(1024).optional() });

/** The create form of the Credentials page: the fields of its type. */
export const credentialCreateForm = z.discriminatedUnion("type", [
  z.object({ name, type: z.literal("winrm"), username: metadata.username, domain: metadata.domain, description: metadata.description, usagePolicy, secret: passwordSecret }),
  z.object({ name, type: z.literal("ssh"), username: metadata.username, description: metadata.description, usagePolicy, secret: sshKeySecret }),
  z.object({ name, type: z.literal("api_key"), description: metadata.description, usagePolicy, secret: apiKeySecret }),
]);

/** The edit form of a credential's page: name, metadata and the whole usage policy (absent entries: an empty policy). */
export const credentialEditForm = z.object({ intent: z.literal("edit"), name, ...metadata, usagePolicy });

/** The rotate form of a credential's page: only the new secret, in the shape of the credential's type (posted as a hidden field). */
export const credentialRotateForm = z.discriminatedUnion("type", [
  z.object({ intent: z.literal("rotate"), type: z.literal("winrm"), secret: passwordSecret }),
  z.object({ intent: z.literal("rotate"), type: z.literal("ssh"), secret: sshKeySecret }),
  z.object({ intent: z.literal("rotate"), type: z.literal("api_key"), secret: apiKeySecret }),
]);

/** The names of every secret field of the credential forms: never echoed back, whatever happens. */
export const CREDENTIAL_SECRET_FIELDS = ["secret.password", "secret.privateKey", "secret.passphrase", "secret.apiKey"] as const;

export type CreateCredential = z.infer<typeof createCredentialBody>;
export type UpdateCredential = z.infer<typeof updateCredentialBody>;
export type CredentialListQuery = z.infer<typeof credentialListQuery>;
