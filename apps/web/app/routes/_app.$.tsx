import { data, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { pageLoader, type PageLoader } from "../http/page.server.ts";

export const meta: MetaFunction = () => [{ title: "OpsConductor · Page not found" }];

const notFound = () => data(null, { status: 404, headers: { "Cache-Control": "no-store" } });

// Every address no other page claims: signed-in users get the 404 page inside the shell.
const signedInNotFound = pageLoader({}, () => {
  throw notFound();
});

export function loader(args: LoaderFunctionArgs): ReturnType<PageLoader<never>> {
  // An unknown /api address stays a plain 404 for API clients, never a sign-in redirect.
  if (/^\/api(\/|$)/.test(new URL(args.request.url).pathname)) throw notFound();
  return signedInNotFound(args);
}

export default function NotFound() {
  return null;
}
