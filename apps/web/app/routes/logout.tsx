import { redirect, type ActionFunctionArgs } from "@remix-run/node";
import { db } from "../db.server.ts";
import { clientMeta } from "../http/api-route.server.ts";
import { readCookie, REFRESH_COOKIE } from "../http/auth.server.ts";
import { getWebSession, refuseSignOutForm, signedOutHeaders } from "../http/web-session.server.ts";
import { auditFor } from "../services/audit/audit.server.ts";
import { signOut } from "../services/auth/sign-in.server.ts";

// Sign-out is a POST from the app shell's form; a GET only leads back to the app.
export const loader = () => redirect("/");

export async function action({ request, context }: ActionFunctionArgs) {
  const refused = await refuseSignOutForm(request);
  if (refused) return refused;
  const { session } = await getWebSession(request, context);
  await signOut(db(), readCookie(request, REFRESH_COOKIE), session?.user ?? null, auditFor(db(), null, clientMeta(request, context)));
  return redirect("/login", { headers: signedOutHeaders(request) });
}
