import { data, type HeadersFunction, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Outlet, useLoaderData, useRouteError, useRouteLoaderData } from "@remix-run/react";
import { AppShell, type ShellUser } from "../components/app-shell.tsx";
import { ErrorPage, errorTitle } from "../components/ui/error-page.tsx";
import { takeFlash, type FlashToast } from "../http/flash.server.ts";
import { requireUser, type PageData } from "../http/web-session.server.ts";

// The layout of every signed-in page; each page's own loader must still call requireUser, because
// Remix runs a page's loaders side by side rather than this one first.
export async function loader({ request, context }: LoaderFunctionArgs): Promise<PageData<{ user: ShellUser; csrfToken: string | null; flash: FlashToast | null }>> {
  // An unknown /api address is a plain 404 for API clients, not a sign-in redirect.
  if (/^\/api(\/|$)/.test(new URL(request.url).pathname)) throw data(null, { status: 404 });
  const { user, csrfToken, headers } = await requireUser(request, context);
  // A toast an action left for this page (redirectWithToast), shown once.
  const flash = takeFlash(request, headers);
  return data({ user: { username: user.username, displayName: user.displayName, role: user.role }, csrfToken, flash }, { headers });
}

// Pages name themselves; this title is for the error boundary, which renders in their place.
export const meta: MetaFunction = ({ error }) => [{ title: error ? errorTitle(error) : "OpsConductor" }];

// Signed-in pages are per-user: no cache may keep them. (Set-Cookie from loaders passes on by itself.)
export const headers: HeadersFunction = () => ({ "Cache-Control": "no-store" });

export default function SignedInLayout() {
  const { user, csrfToken, flash } = useLoaderData<typeof loader>();
  return (
    <AppShell user={user} csrfToken={csrfToken} flash={flash}>
      <Outlet />
    </AppShell>
  );
}

// A page's 403, 404 or failure shows inside the shell, so the navigation stays; only when this
// layout's own loader failed is there no user to draw the shell for.
export function ErrorBoundary() {
  const error = useRouteError();
  const shell = useRouteLoaderData<typeof loader>("routes/_app");
  if (!shell) {
    return (
      <main id="main" className="px-4 sm:px-6">
        <ErrorPage error={error} />
      </main>
    );
  }
  return (
    <AppShell user={shell.user} csrfToken={shell.csrfToken}>
      <ErrorPage error={error} />
    </AppShell>
  );
}
