// The app shell's sections, in one list: the shell shows each entry the signed-in role may use.
import { can, type Permission, type Role } from "../lib/permissions.ts";

export interface NavItem {
  to: string;
  label: string;
  /** Needed to see the entry; none for sections every signed-in user has. */
  permission?: Permission;
  /** Active only on this exact path (the dashboard at "/"), not on paths below it. */
  end?: boolean;
}

/** Every section of the app; later sections add an entry here with the permission that guards them. */
export const NAV_ITEMS: readonly NavItem[] = Object.freeze([
  { to: "/", label: "Dashboard", end: true },
  { to: "/jobs", label: "Jobs", permission: "jobs:read" },
  { to: "/runs", label: "Runs", permission: "runs:read" },
  { to: "/schedules", label: "Schedules", permission: "schedules:read" },
  { to: "/targets", label: "Targets", permission: "targets:read" },
  { to: "/credentials", label: "Credentials", permission: "credentials:reference" },
  { to: "/files", label: "Files", permission: "files:read" },
  { to: "/users", label: "Users", permission: "users:read" },
  { to: "/tokens", label: "API tokens", permission: "tokens:admin" },
  { to: "/audit", label: "Audit log", permission: "audit:read" },
  { to: "/system", label: "System", permission: "system:read" },
  { to: "/profile", label: "Profile", permission: "profile:read" },
]);

/** The entries of `items` that `role` may see. */
export function navFor(role: Role, items: readonly NavItem[] = NAV_ITEMS): NavItem[] {
  return items.filter((item) => item.permission === undefined || can(role, item.permission));
}
