import type { LoaderFunctionArgs } from "@remix-run/node";
import { db } from "../db.server.ts";
import { clientMeta } from "../http/api-route.server.ts";
import { beginSsoSignIn } from "../http/sso-flow.server.ts";

// GET /auth/sso/{provider}: off to the identity provider.
export async function loader({ request, params, context }: LoaderFunctionArgs) {
  return beginSsoSignIn(db(), request, params.provider ?? "", clientMeta(request, context));
}
