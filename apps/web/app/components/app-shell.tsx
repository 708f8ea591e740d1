import { NavLink } from "@remix-run/react";
import type { ReactNode } from "react";
import type { Role } from "../lib/permissions.ts";
import { navFor } from "./nav.ts";

export interface ShellUser {
  username: string;
  displayName: string | null;
  role: Role;
}

/** The frame of every signed-in page: brand, section navigation, who is signed in, sign-out. */
export function AppShell({ user, csrfToken, children }: { user: ShellUser; csrfToken: string | null; children: ReactNode }) {
  return (
    <div className="min-h-full">
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex max-w-6xl flex-wrap items-center gap-x-8 gap-y-2 px-6 py-3">
          <span className="text-lg font-semibold tracking-tight">OpsConductor</span>
          <nav aria-label="Sections" className="flex-1">
            <ul className="flex flex-wrap gap-1">
              {navFor(user.role).map((item) => (
                <li key={item.to}>
                  <NavLink
                    to={item.to}
                    end={item.end}
                    className={({ isActive }) => `rounded-md px-3 py-1.5 text-sm font-medium ${isActive ? "bg-slate-900 text-white" : "text-slate-700 hover:bg-slate-100"}`}
                  >
                    {item.label}
                  </NavLink>
                </li>
              ))}
            </ul>
          </nav>
          <div className="flex items-center gap-3 text-sm">
            <span className="text-slate-700">
              <span className="font-medium">{user.displayName ?? user.username}</span> <span className="rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-600">{user.role}</span>
            </span>
            {/* A plain form: signing out works without JavaScript and reloads every page state. */}
            <form method="post" action="/logout">
              <input type="hidden" name="csrf" value={csrfToken ?? ""} />
              <button type="submit" className="rounded-md border border-slate-300 px-3 py-1.5 font-medium text-slate-700 hover:bg-slate-100">
                Sign out
              </button>
            </form>
          </div>
        </div>
      </header>
      <main className="mx-auto max-w-6xl px-6 py-8">{children}</main>
    </div>
  );
}
