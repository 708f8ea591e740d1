import { NavLink, useLocation } from "@remix-run/react";
import { useEffect, useRef, type ReactNode } from "react";
import type { Role } from "../lib/permissions.ts";
import { navFor } from "./nav.ts";
import { CsrfContext } from "./ui/csrf.tsx";
import { ToastRegion, type ToastMessage } from "./ui/toast.tsx";

export interface ShellUser {
  username: string;
  displayName: string | null;
  role: Role;
}

/** The frame of every signed-in page: brand, section navigation, who is signed in, sign-out, and the toasts. */
export function AppShell({ user, csrfToken, flash, children }: { user: ShellUser; csrfToken: string | null; flash?: ToastMessage | null; children: ReactNode }) {
  const sections = useRef<HTMLUListElement>(null);
  const { pathname } = useLocation();
  // On a phone the row of sections scrolls: keep the current one in view.
  useEffect(() => {
    sections.current?.querySelector('[aria-current="page"]')?.scrollIntoView({ block: "nearest", inline: "nearest" });
  }, [pathname]);
  return (
    <CsrfContext.Provider value={csrfToken}>
      <ToastRegion initial={flash}>
        <div className="min-h-full">
          <a href="#main" className="sr-only rounded-md bg-white px-3 py-2 font-medium text-slate-900 focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-50">
            Skip to content
          </a>
          <header className="border-b border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
            <div className="mx-auto flex max-w-6xl flex-wrap items-center gap-x-8 gap-y-2 px-4 py-3 sm:px-6">
              <span className="text-lg font-semibold tracking-tight">OpsConductor</span>
              <nav aria-label="Sections" className="order-last w-full sm:order-none sm:w-auto sm:flex-1">
                {/* On a phone the sections scroll sideways in one row instead of stacking rows above the page. */}
                <ul ref={sections} className="-mx-1 flex gap-1 overflow-x-auto px-1 pb-1 sm:mx-0 sm:flex-wrap sm:overflow-visible sm:px-0 sm:pb-0">
                  {navFor(user.role).map((item) => (
                    <li key={item.to}>
                      <NavLink
                        to={item.to}
                        end={item.end}
                        className={({ isActive }) =>
                          `block rounded-md px-3 py-1.5 text-sm font-medium whitespace-nowrap focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-500 ${isActive ? "bg-slate-900 text-white dark:bg-slate-100 dark:text-slate-900" : "text-slate-700 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800"}`
                        }
                      >
                        {item.label}
                      </NavLink>
                    </li>
                  ))}
                </ul>
              </nav>
              <div className="ml-auto flex min-w-0 items-center gap-3 text-sm sm:ml-0">
                <span className="min-w-0 truncate text-slate-700 dark:text-slate-300">
                  <span className="font-medium">{user.displayName ?? user.username}</span>{" "}
                  <span className="rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-600 dark:bg-slate-800 dark:text-slate-300">{user.role}</span>
                </span>
                {/* A plain form: signing out works without JavaScript and reloads every page state. */}
                <form method="post" action="/logout">
                  <input type="hidden" name="csrf" value={csrfToken ?? ""} />
                  <button
                    type="submit"
                    className="rounded-md border border-slate-300 px-3 py-1.5 font-medium whitespace-nowrap text-slate-700 hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-500 dark:border-slate-600 dark:text-slate-200 dark:hover:bg-slate-800"
                  >
                    Sign out
                  </button>
                </form>
              </div>
            </div>
          </header>
          <main id="main" className="mx-auto max-w-6xl px-4 py-8 sm:px-6">
            {children}
          </main>
        </div>
      </ToastRegion>
    </CsrfContext.Provider>
  );
}
