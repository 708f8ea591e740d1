import type { LoaderFunctionArgs } from "@remix-run/node";
import { db } from "../db.server.ts";
import { clientMeta } from "../http/api-route.server.ts";
import { completeSsoSignIn } from "../http/sso-flow.server.ts";

// GET /auth/sso/{provider}/callback: the identity provider sends the browser back here.
export async function loader({ request, params, context }: LoaderFunctionArgs) {
  return completeSsoSignIn(db(), request, params.provider ?? "", clientMeta(request, context));
}
