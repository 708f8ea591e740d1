import { isRouteErrorResponse, Link } from "@remix-run/react";
import { buttonClass } from "./button.tsx";
import { MUTED } from "./styles.ts";

function describe(error: unknown): { status: number; title: string; message: string } {
  if (isRouteErrorResponse(error)) {
    if (error.status === 403) {
      const role = typeof error.data?.role === "string" ? error.data.role : null;
      return { status: 403, title: "You don't have access to this page", message: `${role ? `The ${role} role` : "Your role"} may not use this page. Ask an administrator if you need it.` };
    }
    if (error.status === 404) return { status: 404, title: "Page not found", message: "There is no page at this address. It may have moved, or the link may be mistyped." };
    if (error.status === 400 && Array.isArray(error.data?.problems)) {
      const problems = (error.data.problems as unknown[]).filter((p): p is string => typeof p === "string");
      return { status: 400, title: "This address asks for something the page cannot show", message: `${problems.join("; ")}. Clear the filters and try again.` };
    }
    if (error.status < 500) return { status: error.status, title: "This request could not be completed", message: "Go back and try again." };
  }
  // Never the error's own text: it may carry internals, and production hides it anyway.
  return { status: 500, title: "Something went wrong", message: "The server could not complete this request. The details are in the server log." };
}

/** The document title for a route's error. */
export function errorTitle(error: unknown): string {
  return `OpsConductor · ${describe(error).title}`;
}

/** The page shown for a route's error: 403, 404, or a readable message for anything else (never a stack trace). */
export function ErrorPage({ error }: { error: unknown }) {
  const { status, title, message } = describe(error);
  return (
    <section aria-labelledby="error-title" className="max-w-xl py-6 sm:py-10">
      <p className="text-sm font-semibold text-sky-700 dark:text-sky-300">Error {status}</p>
      <h1 id="error-title" className="mt-1 text-2xl font-semibold">
        {title}
      </h1>
      <p className={`mt-2 ${MUTED}`}>{message}</p>
      <Link to="/" className={buttonClass("secondary", "mt-6")}>
        Back to the dashboard
      </Link>
    </section>
  );
}
