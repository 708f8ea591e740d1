import { redirect, type ActionFunctionArgs } from "@remix-run/node";
import { db } from "../db.server.ts";
import { recordAudit } from "../server/audit.server.ts";
import { clearedAuthCookies, readCookie, REFRESH_COOKIE, revokeRefreshFamily } from "../server/auth.server.ts";
import { BODY_LIMITS, readForm } from "../server/body.server.ts";
import { ApiError } from "../server/errors.server.ts";
import { clientMeta } from "../server/api.server.ts";
import { checkFormCsrf, getWebSession } from "../server/web-session.server.ts";

// Sign-out is a POST from the app shell's form; a GET only leads back to the app.
export const loader = () => redirect("/");

export async function action({ request, context }: ActionFunctionArgs) {
  if (request.method !== "POST") return new Response("Sign out with POST.", { status: 405, headers: { Allow: "POST" } });
  try {
    const form = await readForm(request, BODY_LIMITS.form);
    const csrf = form.get("csrf");
    checkFormCsrf(request, typeof csrf === "string" ? csrf : null);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    const message = error.status === 403 ? "Sign-out refused: the form did not carry this browser's security token. Reload the page and sign out again." : `Sign-out refused: ${error.message}.`;
    return new Response(message, {
      status: error.status,
      headers: { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store", ...error.headers },
    });
  }
  const prisma = db();
  const { session } = await getWebSession(request, context);
  const refresh = readCookie(request, REFRESH_COOKIE);
  if (refresh) await revokeRefreshFamily(prisma, refresh);
  if (session) {
    const { user } = session;
    await recordAudit(prisma, { actor: { id: user.id, name: user.username }, action: "auth.logout", entityType: "user", entityId: user.id, summary: `${user.username} signed out`, ...clientMeta(request, context) });
  }
  const headers = new Headers({ "Cache-Control": "no-store" });
  for (const c of clearedAuthCookies(request)) headers.append("Set-Cookie", c);
  return redirect("/login", { headers });
}
