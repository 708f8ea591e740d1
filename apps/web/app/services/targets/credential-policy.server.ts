// A credential goes only where its usage policy allows: the approval a target stores when its
// credential binding changes, and the audited refusal when it may not.
import { connectionChanged, connectionFingerprint, credentialPolicyMessage, hostMatchesPolicy, type Db, type TargetConnection } from "@opsconductor/db";
import type { Audit, AuditInput } from "../audit/audit.server.ts";
import { ApiError, invalidField } from "../errors.server.ts";

/** What the caller may do with a credential outside its usage policy (the credentials:bind_any permission). */
export interface BindingAccess {
  bindAnywhere: boolean;
}

// Carries a refusal out of the transaction, which rolls back, so that its audit row survives.
export class PolicyRefusal extends Error {
  readonly credential: { id: string; name: string };
  readonly connection: TargetConnection & { name: string; id: string | null };
  readonly path: string;
  constructor(credential: PolicyRefusal["credential"], connection: PolicyRefusal["connection"], path: string, message: string) {
    super(message);
    this.credential = credential;
    this.connection = connection;
    this.path = path;
  }
}

/**
 * The approval to store with a target after a change: an admin's change approves exactly the new
 * connection settings; anyone else's must point the credential at a host its usage policy lists.
 */
export async function bindingApproval(
  tx: Db,
  next: TargetConnection & { name: string },
  current: (TargetConnection & { id: string; credentialApproval: string | null }) | null,
  access: BindingAccess,
): Promise<string | null> {
  if (!next.credentialId) return null;
  if (current && !connectionChanged(current, next)) return current.credentialApproval;
  if (access.bindAnywhere) return connectionFingerprint(next);
  const credential = await tx.credential.findUnique({ where: { id: next.credentialId }, select: { id: true, name: true, usagePolicy: true } });
  if (!credential) throw invalidField("body.credentialId", "names no credential");
  if (!hostMatchesPolicy(next.hostname, credential.usagePolicy)) {
    const path = !current || current.credentialId !== next.credentialId ? "body.credentialId" : "body.hostname";
    throw new PolicyRefusal(credential, { ...next, id: current?.id ?? null }, path, credentialPolicyMessage(credential.name, next.hostname, credential.usagePolicy.length === 0));
  }
  return null;
}

/** The audit row of a refused use of a credential: who tried, which credential, where to. */
export function policyRefusalAudit(credential: { id: string; name: string }, target: TargetConnection & { name: string; id: string | null }, operation: string, message: string): AuditInput {
  return {
    action: "credential.policy_refused",
    entityType: "credential",
    entityId: credential.id,
    summary: `refused ${operation} of target ${target.name}: ${message}`,
    details: { operation, credential: credential.name, targetId: target.id, target: target.name, hostname: target.hostname, port: target.port, transport: target.winrmTransport, auth: target.winrmAuth },
  };
}

/** Audits a refusal carried out of a rolled-back transaction and answers it as a 403; other errors are rethrown. */
export async function refused(error: unknown, operation: string, audit: Audit, db: Db): Promise<never> {
  if (!(error instanceof PolicyRefusal)) throw error;
  await audit(policyRefusalAudit(error.credential, error.connection, operation, error.message), db);
  throw new ApiError(403, "credential_policy", error.message, { details: [{ path: error.path, message: error.message }] });
}
