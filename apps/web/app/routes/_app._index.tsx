import { checkDatabase, getSystemOverview, type SystemOverview } from "@opsconductor/db";
import { data, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import type { ShellUser } from "../components/app-shell.tsx";
import { SystemStatus, type DatabaseHealth } from "../components/system-status.tsx";
import { db } from "../db.server.ts";
import { requireUser, type PageData } from "../http/web-session.server.ts";

export const meta: MetaFunction = () => [{ title: "OpsConductor · Dashboard" }];

export async function loader({ request, context }: LoaderFunctionArgs): Promise<PageData<{ user: ShellUser; database: DatabaseHealth; overview: SystemOverview | null }>> {
  const { user, headers } = await requireUser(request, context);
  const database = await checkDatabase(db());
  const overview = database.ok ? await getSystemOverview(db()) : null;
  return data({ user: { username: user.username, displayName: user.displayName, role: user.role }, database, overview }, { headers });
}

export default function Dashboard() {
  const { user, database, overview } = useLoaderData<typeof loader>();
  return (
    <div className="space-y-8">
      <header>
        <h1 className="text-2xl font-semibold">Dashboard</h1>
        <p className="text-slate-600 dark:text-slate-400">
          Signed in as <strong data-testid="display-name">{user.displayName ?? user.username}</strong> (<span data-testid="username">{user.username}</span>), role{" "}
          <span data-testid="role" className="rounded bg-slate-100 px-1.5 py-0.5 text-sm dark:bg-slate-800">
            {user.role}
          </span>
          .
        </p>
      </header>
      <SystemStatus database={database} overview={overview} />
    </div>
  );
}
