import { data, type HeadersFunction, type LoaderFunctionArgs } from "@remix-run/node";
import { Outlet, useLoaderData } from "@remix-run/react";
import { AppShell, type ShellUser } from "../components/app-shell.tsx";
import { requireUser, type PageData } from "../http/web-session.server.ts";

// The layout of every signed-in page; each page's own loader must still call requireUser, because
// Remix runs a page's loaders side by side rather than this one first.
export async function loader({ request, context }: LoaderFunctionArgs): Promise<PageData<{ user: ShellUser; csrfToken: string | null }>> {
  const { user, csrfToken, headers } = await requireUser(request, context);
  return data({ user: { username: user.username, displayName: user.displayName, role: user.role }, csrfToken }, { headers });
}

// Signed-in pages are per-user: no cache may keep them. (Set-Cookie from loaders passes on by itself.)
export const headers: HeadersFunction = () => ({ "Cache-Control": "no-store" });

export default function SignedInLayout() {
  const { user, csrfToken } = useLoaderData<typeof loader>();
  return (
    <AppShell user={user} csrfToken={csrfToken}>
      <Outlet />
    </AppShell>
  );
}
