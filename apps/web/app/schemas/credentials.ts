// Request schemas of credentials. The secret's shape depends on the credential's type; secrets are
// write-only, so no schema here is ever used to echo one back.
import { credentialPolicySchema } from "@opsconductor/db/host-patterns";
import { CredentialType as CredentialTypes } from "@opsconductor/db/enums";
import { z } from "zod";
import { pageQuery } from "./common.ts";

export const CREDENTIAL_TYPES = Object.values(CredentialTypes);
export type CredentialType = (typeof CREDENTIAL_TYPES)[number];
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

/** Query of GET /api/credentials. */
export const credentialListQuery = pageQuery.extend({ type: credentialType.optional(), q: z.string().trim().max(200).optional() });

export type CreateCredential = z.infer<typeof createCredentialBody>;
export type UpdateCredential = z.infer<typeof updateCredentialBody>;
export type CredentialListQuery = z.infer<typeof credentialListQuery>;
