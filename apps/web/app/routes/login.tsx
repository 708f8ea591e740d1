import { data, redirect, type ActionFunctionArgs, type HeadersFunction, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { db } from "../db.server.ts";
import { clientMeta } from "../http/api-route.server.ts";
import { checkCsrf } from "../http/auth.server.ts";
import { BODY_LIMITS, readForm } from "../http/body.server.ts";
import { getWebSession, safeRedirect, signedInHeaders, type PageData } from "../http/web-session.server.ts";
import { loginBody } from "../schemas/auth.ts";
import { signInWithPassword } from "../services/auth/sign-in.server.ts";
import { listSsoProviders, ssoErrorMessage, type SsoProviderId } from "../services/auth/sso.server.ts";
import { ApiError } from "../services/errors.server.ts";

export const meta: MetaFunction = () => [{ title: "OpsConductor · Sign in" }];

export const headers: HeadersFunction = ({ actionHeaders }) => {
  const out = new Headers({ "Cache-Control": "no-store" });
  for (const name of ["Retry-After", "Connection"]) {
    const value = actionHeaders.get(name);
    if (value) out.set(name, value);
  }
  return out;
};

interface LoginPage {
  providers: { id: SsoProviderId; name: string }[];
  redirectTo: string;
  ssoError: string | null;
  notice: string | null;
}

// Messages a page that signed the browser out leaves for the sign-in page, by key (never free text from the address).
const NOTICES = new Map([["signed-out-everywhere", "You were signed out everywhere: every session of your account has ended."]]);

export async function loader({ request, context }: LoaderFunctionArgs): Promise<PageData<LoginPage>> {
  const url = new URL(request.url);
  const redirectTo = safeRedirect(url.searchParams.get("redirectTo"));
  const { session, headers } = await getWebSession(request, context);
  if (session) throw redirect(redirectTo, { headers });
  const error = url.searchParams.get("error");
  return data({ providers: listSsoProviders(), redirectTo, ssoError: error ? ssoErrorMessage(error) : null, notice: NOTICES.get(url.searchParams.get("notice") ?? "") ?? null }, { headers });
}

const sentence = (message: string) => message.charAt(0).toUpperCase() + message.slice(1) + (/[.!?]$/.test(message) ? "" : ".");

export async function action({ request, context }: ActionFunctionArgs): Promise<PageData<{ error: string; username: string }> | Response> {
  let username = "";
  try {
    // Only the Origin check applies here: there is no session yet whose token the form could echo.
    checkCsrf(request, null);
    const form = await readForm(request, BODY_LIMITS.form);
    username = String(form.get("username") ?? "").trim();
    const redirectTo = safeRedirect(form.get("redirectTo"));
    const parsed = loginBody.safeParse({ username, password: String(form.get("password") ?? "") });
    if (!parsed.success) return data({ error: "Enter your username and password.", username: username.slice(0, 200) }, { status: 400 });
    const signedIn = await signInWithPassword(db(), parsed.data.username, parsed.data.password, clientMeta(request, context));
    return redirect(redirectTo, { headers: signedInHeaders(request, signedIn.tokens) });
  } catch (error) {
    if (error instanceof ApiError) return data({ error: sentence(error.message), username: username.slice(0, 200) }, { status: error.status, headers: error.headers });
    throw error;
  }
}

export default function Login() {
  const { providers, redirectTo, ssoError, notice } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const submitting = useNavigation().state === "submitting";
  const error = result?.error ?? ssoError;
  return (
    <main className="flex min-h-full items-center justify-center p-6">
      <div className="w-full max-w-sm space-y-6 rounded-xl border border-slate-200 bg-white p-6 shadow-sm sm:p-8 dark:border-slate-800 dark:bg-slate-900">
        <header>
          <h1 className="text-xl font-semibold">Sign in to OpsConductor</h1>
        </header>
        {notice && !error && (
          <p role="status" className="rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-900 dark:bg-emerald-950 dark:text-emerald-100">
            {notice}
          </p>
        )}
        {error && (
          <p role="alert" id="login-error" className="rounded-md bg-rose-50 px-3 py-2 text-sm text-rose-800 dark:bg-rose-950 dark:text-rose-200">
            {error}
          </p>
        )}
        <Form method="post" action="/login" className="space-y-4" aria-describedby={error ? "login-error" : undefined}>
          <input type="hidden" name="redirectTo" value={redirectTo} />
          <label className="block text-sm font-medium text-slate-700 dark:text-slate-200">
            Username
            <input
              name="username"
              autoComplete="username"
              required
              maxLength={loginBody.shape.username.maxLength ?? undefined}
              autoFocus
              defaultValue={result?.username ?? ""}
              className="mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-slate-900 focus-visible:border-sky-500 dark:border-slate-600 dark:bg-slate-950 dark:text-slate-100"
            />
          </label>
          <label className="block text-sm font-medium text-slate-700 dark:text-slate-200">
            Password
            <input
              name="password"
              type="password"
              autoComplete="current-password"
              required
              maxLength={loginBody.shape.password.maxLength ?? undefined}
              className="mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-slate-900 focus-visible:border-sky-500 dark:border-slate-600 dark:bg-slate-950 dark:text-slate-100"
            />
          </label>
          <button type="submit" disabled={submitting} className="w-full rounded-md bg-slate-900 px-3 py-2 font-medium text-white hover:bg-slate-700 disabled:opacity-60 dark:bg-sky-500 dark:text-slate-950 dark:hover:bg-sky-400">
            {submitting ? "Signing in…" : "Sign in"}
          </button>
        </Form>
        {providers.length > 0 && (
          <div className="space-y-2 border-t border-slate-200 pt-6 dark:border-slate-800">
            {providers.map((p) => (
              // A plain link: the provider's page is a full navigation away from this app.
              <a
                key={p.id}
                href={`/auth/sso/${p.id}${redirectTo === "/" ? "" : `?redirectTo=${encodeURIComponent(redirectTo)}`}`}
                className="block w-full rounded-md border border-slate-300 px-3 py-2 text-center font-medium text-slate-800 hover:bg-slate-50 dark:border-slate-600 dark:text-slate-100 dark:hover:bg-slate-800"
              >
                Sign in with {p.name}
              </a>
            ))}
          </div>
        )}
      </div>
    </main>
  );
}
