// GET /audit/export.csv: the audit entries the Audit log page's filters select, as a CSV download,
// streamed row by row (services/audit/export.server.ts). The same filters as the page, for admins.
import type { LoaderFunctionArgs } from "@remix-run/node";
import { db } from "../db.server.ts";
import { requireUser } from "../http/web-session.server.ts";
import { can } from "../lib/permissions.ts";
import { auditPageQuery } from "../schemas/audit.ts";
import { auditCsvStream } from "../services/audit/export.server.ts";
import { ApiError } from "../services/errors.server.ts";

const plain = (status: number, text: string, headers?: Headers) => {
  const answer = new Response(`${text}\n`, { status, headers });
  answer.headers.set("Content-Type", "text/plain; charset=utf-8");
  answer.headers.set("Cache-Control", "no-store");
  return answer;
};

export async function loader({ request, context }: LoaderFunctionArgs): Promise<Response> {
  const { user, headers } = await requireUser(request, context);
  if (!can(user.role, "audit:read")) return plain(403, `The ${user.role} role may not read the audit log.`, headers);
  const params: Record<string, string> = {};
  for (const [name, value] of new URL(request.url).searchParams) if (value !== "" && name !== "cursor" && name !== "limit") params[name] = value;
  const parsed = auditPageQuery.safeParse(params);
  if (!parsed.success) return plain(400, parsed.error.issues.map((issue) => `${issue.path.join(".") || "query"} ${issue.message}`).join("\n"), headers);
  let body: ReadableStream<Uint8Array>;
  try {
    body = auditCsvStream(db(), parsed.data);
  } catch (error) {
    if (error instanceof ApiError) return plain(error.status, error.message, headers);
    throw error;
  }
  const stamp = new Date().toISOString().slice(0, 19).replaceAll(":", "-");
  headers.set("Content-Type", "text/csv; charset=utf-8");
  headers.set("Content-Disposition", `attachment; filename="audit-${stamp}Z.csv"`);
  headers.set("Cache-Control", "no-store");
  headers.set("X-Content-Type-Options", "nosniff");
  return new Response(body, { status: 200, headers });
}
