// POST /api/apply: makes the instance hold what a configuration document says, in one transaction.
// Resources are matched by name (targets, jobs) or by job and name, else job, cron and zone
// (schedules); what is equal is left alone, so applying a document twice changes nothing the
// second time. A dry run does all of it, answers the diff, and rolls back.
import { addJobVersion, createJob as insertJob, findLibraryFile, notify, SCHEDULES_CHANNEL, type Db, type Prisma, type PrismaClient } from "@opsconductor/db";
import type { ApplyChange, ApplyResult, ConfigDocument, ConfigSchedule, ConfigTarget } from "../../schemas/config-document.ts";
import type { Audit } from "../audit/audit.server.ts";
import type { Principal } from "../auth/tokens.server.ts";
import { ApiError, validationFailed, type ErrorDetail } from "../errors.server.ts";
import { fileLinkError, pinFiles } from "../files/job-files.server.ts";
import { checkParameters, parseDefinition } from "../jobs/definitions.server.ts";
import { planSchedule } from "../schedules/plan.server.ts";
import { changeTarget, insertTarget, jobsNamingTarget } from "../targets/commands.server.ts";
import { PolicyRefusal, refused, type BindingAccess } from "../targets/credential-policy.server.ts";
import { targetInclude, toTargetView } from "../targets/queries.server.ts";
import { portableDefinition } from "./export.server.ts";

export interface ApplyOptions {
  dryRun: boolean;
  prune: boolean;
}

// Thrown at the end of a dry run to roll the transaction back with its answer.
class DryRun extends Error {
  readonly result: ApplyResult;
  constructor(result: ApplyResult) {
    super("dry run");
    this.result = result;
  }
}

const key = (name: string) => name.toLowerCase();

// Stable JSON: object keys sorted, so equal values compare equal whatever order they were written in.
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Runs `work`, answering its ApiErrors with their `body.` paths moved under `prefix` (e.g. body.targets[2]). */
async function under<T>(prefix: string, work: () => Promise<T>, rename: Record<string, string> = {}): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 400) throw error;
    const move = (text: string) =>
      text.replace(/\bbody((?:\.[A-Za-z0-9_]+|\[\d+\])*)/g, (_m, rest: string) => {
        const renamed = Object.entries(rename).reduce((path, [from, to]) => (path === from || path.startsWith(`${from}.`) ? to + path.slice(from.length) : path), rest);
        return `${prefix}${renamed}`;
      });
    const details = (error.details ?? [{ path: prefix, message: error.message }]).map((d) => ({ path: move(d.path), message: move(d.message) }));
    throw validationFailed(details);
  }
}

function duplicates<T>(items: readonly T[], keyOf: (item: T) => string, path: (i: number) => string, what: (item: T) => string): ErrorDetail[] {
  const seen = new Map<string, number>();
  const details: ErrorDetail[] = [];
  items.forEach((item, i) => {
    const k = keyOf(item);
    const first = seen.get(k);
    if (first === undefined) seen.set(k, i);
    else details.push({ path: path(i), message: `${path(i)} repeats ${what(item)} (first at index ${first})` });
  });
  return details;
}

const scheduleKey = (s: { job: string; name: string | null; cron: string; timezone: string }) => (s.name ? `${key(s.job)}\0name\0${s.name}` : `${key(s.job)}\0cron\0${s.cron}\0${s.timezone}`);
const scheduleLabel = (s: { job: string; name: string | null; cron: string; timezone: string }) => (s.name ? `${s.job}: ${s.name}` : `${s.job}: ${s.cron} (${s.timezone})`);

/** Applies `document` in one transaction (or, with dryRun, only works out what would change); answers the diff. */
export async function applyConfiguration(prisma: PrismaClient, document: ConfigDocument, options: ApplyOptions, principal: Principal, audit: Audit, access: BindingAccess): Promise<ApplyResult> {
  const problems = [
    ...duplicates(document.targets, (t) => key(t.name), (i) => `body.targets[${i}].name`, (t) => `target "${t.name}"`),
    ...duplicates(document.jobs, (j) => key(String(j.definition.name)), (i) => `body.jobs[${i}].definition.name`, (j) => `job "${String(j.definition.name)}"`),
    ...duplicates(document.schedules, scheduleKey, (i) => `body.schedules[${i}]`, (s) => `schedule ${scheduleLabel(s)}`),
  ];
  if (problems.length > 0) throw validationFailed(problems);
  try {
    return await prisma.$transaction(
      async (tx) => {
        // One apply at a time: two would otherwise both create what neither saw.
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('opsconductor:config-apply'))`;
        const changes: ApplyChange[] = [];
        await checkFiles(tx, document);
        changes.push(...(await applyTargets(tx, document.targets, audit, access)));
        const jobChanges = await applyJobs(tx, document, principal, audit);
        changes.push(...jobChanges);
        changes.push(...(await applySchedules(tx, document.schedules, options.prune, principal, audit)));
        if (options.prune) {
          changes.push(...(await pruneJobs(tx, document, principal, audit)));
          changes.push(...(await pruneTargets(tx, document.targets, audit)));
        }
        const summary = { create: 0, change: 0, unchanged: 0, delete: 0 };
        for (const change of changes) summary[change.action] += 1;
        const result: ApplyResult = { dryRun: options.dryRun, prune: options.prune, summary, changes };
        if (options.dryRun) throw new DryRun(result);
        if (summary.create + summary.change + summary.delete > 0) {
          await audit(
            {
              action: "config.apply",
              entityType: "config",
              summary: `${principal.username} applied a configuration: ${summary.create} created, ${summary.change} changed, ${summary.delete} deleted, ${summary.unchanged} unchanged`,
              details: { ...summary, prune: options.prune, changed: changes.filter((c) => c.action !== "unchanged").map((c) => `${c.action} ${c.kind} ${c.name}`).slice(0, 200) },
            },
            tx,
          );
        }
        return result;
      },
      { maxWait: 15_000, timeout: 120_000 },
    );
  } catch (error) {
    if (error instanceof DryRun) return error.result;
    if (error instanceof PolicyRefusal) await refused(error, "target.apply", audit, prisma);
    throw error;
  }
}

async function checkFiles(tx: Db, document: ConfigDocument): Promise<void> {
  const details: ErrorDetail[] = [];
  for (const [i, file] of document.files.entries()) {
    if (!(await findLibraryFile(tx, file.name, file.sha256))) {
      details.push({ path: `body.files[${i}]`, message: `body.files[${i}] names no file in the library called "${file.name}" with SHA-256 ${file.sha256}: upload it (POST /api/files) first; the document carries only references` });
    }
  }
  if (details.length > 0) throw validationFailed(details);
}

function targetFields(t: ConfigTarget) {
  return { hostname: t.hostname, port: t.port, os: t.os, winrm: t.winrm, credential: t.credential, tags: [...new Set(t.tags)], description: t.description };
}

async function applyTargets(tx: Db, targets: readonly ConfigTarget[], audit: Audit, access: BindingAccess): Promise<ApplyChange[]> {
  const existing = new Map((await tx.target.findMany({ include: targetInclude })).map((row) => [key(row.name), toTargetView(row)]));
  const credentials = new Map((await tx.credential.findMany({ select: { id: true, name: true } })).map((c) => [key(c.name), c]));
  const missing: ErrorDetail[] = [];
  targets.forEach((t, i) => {
    if (t.credential && !credentials.has(key(t.credential))) {
      missing.push({ path: `body.targets[${i}].credential`, message: `body.targets[${i}].credential names no credential "${t.credential}": create it first (documents never carry secrets)` });
    }
  });
  if (missing.length > 0) throw validationFailed(missing);

  const changes: ApplyChange[] = [];
  const ids = new Map<string, string>([...existing].map(([k, v]) => [k, v.id]));
  for (const [i, t] of targets.entries()) {
    const prefix = `body.targets[${i}]`;
    const wanted = targetFields(t);
    const credentialId = t.credential ? credentials.get(key(t.credential))!.id : null;
    const current = existing.get(key(t.name));
    const input = { name: t.name, hostname: wanted.hostname, port: wanted.port, os: wanted.os, winrm: wanted.winrm, credentialId, tags: wanted.tags, description: wanted.description };
    if (!current) {
      const created = await under(prefix, () => insertTarget(tx, input, audit, access), { ".credentialId": ".credential" });
      ids.set(key(t.name), created.id);
      changes.push({ kind: "target", name: t.name, action: "create" });
      continue;
    }
    const have = { hostname: current.hostname, port: current.port, os: current.os, winrm: current.winrm, credential: current.credential?.name ?? null, tags: current.tags, description: current.description };
    const fields = (Object.keys(wanted) as (keyof typeof wanted)[]).filter((f) =>
      f === "credential" ? key(wanted.credential ?? "") !== key(have.credential ?? "") : canonical(wanted[f]) !== canonical(have[f]),
    );
    if (current.name !== t.name) fields.unshift("name" as never);
    if (fields.length > 0) await under(prefix, () => changeTarget(tx, current.id, input, audit, access), { ".credentialId": ".credential" });
    changes.push({ kind: "target", name: t.name, action: fields.length > 0 ? "change" : "unchanged", ...(fields.length > 0 ? { fields } : {}) });
  }
  // Dependencies once every target exists: a document may list a target before one it depends on.
  for (const [i, t] of targets.entries()) {
    const path = `body.targets[${i}].dependsOn`;
    const unknown = t.dependsOn.filter((name) => !ids.has(key(name)));
    if (unknown.length > 0) throw validationFailed([{ path, message: `${path} names targets that are neither in the document nor registered: ${unknown.join(", ")}` }]);
    const wanted = [...new Set(t.dependsOn.map(key))].sort();
    const current = existing.get(key(t.name));
    const have = (current?.dependsOn ?? []).map((d) => key(d.name)).sort();
    if (canonical(wanted) === canonical(have)) continue;
    await under(`body.targets[${i}]`, () => changeTarget(tx, ids.get(key(t.name))!, { dependsOn: wanted.map((k) => ids.get(k)!) }, audit, access));
    const change = changes.find((c) => c.kind === "target" && key(c.name) === key(t.name))!;
    if (change.action === "unchanged") Object.assign(change, { action: "change", fields: ["dependsOn"] });
    else if (change.action === "change") change.fields = [...(change.fields ?? []), "dependsOn"];
  }
  return changes;
}

type Definition = Parameters<typeof portableDefinition>[0];

async function nameMaps(tx: Db) {
  const [targets, files] = await Promise.all([tx.target.findMany({ select: { id: true, name: true } }), tx.libraryFile.findMany({ select: { id: true, name: true } })]);
  return { targets: new Map(targets.map((t) => [t.id.toLowerCase(), t.name])), files: new Map(files.map((f) => [f.id, f.name])) };
}

async function applyJobs(tx: Db, document: ConfigDocument, principal: Principal, audit: Audit): Promise<ApplyChange[]> {
  const rows = await tx.job.findMany({ select: { id: true, name: true, active: true, description: true, currentVersion: { select: { definition: true } } } });
  const existing = new Map(rows.map((row) => [key(row.name), row]));
  const maps = await nameMaps(tx);
  const changes: ApplyChange[] = [];
  for (const [i, entry] of document.jobs.entries()) {
    const prefix = `body.jobs[${i}].definition`;
    const parsed = await under(prefix, async () => parseDefinition(entry.definition));
    const pinned = await under(prefix, () => pinFiles(tx, parsed));
    const definition = pinned as unknown as Prisma.InputJsonValue;
    const current = existing.get(key(pinned.name));
    if (!current) {
      const job = await insertJob(tx, { name: pinned.name, description: pinned.description ?? null, definition, createdById: principal.id }).catch((error: unknown) => under(prefix, async () => fileLinkError(error)));
      if (!entry.active) await tx.job.update({ where: { id: job.id }, data: { active: false } });
      await audit({ action: "job.create", entityType: "job", entityId: job.id, summary: `${principal.username} created job ${pinned.name} (configuration apply)`, details: { name: pinned.name, version: 1, active: entry.active } }, tx);
      changes.push({ kind: "job", name: pinned.name, action: "create" });
      continue;
    }
    const fields: string[] = [];
    const before = current.currentVersion ? canonical(portableDefinition(current.currentVersion.definition as Definition, maps.targets, maps.files)) : "";
    if (before !== canonical(portableDefinition(pinned as unknown as Definition, maps.targets, maps.files))) {
      const version = await addJobVersion(tx, current.id, definition, principal.id).catch((error: unknown) => under(prefix, async () => fileLinkError(error)));
      await tx.job.update({ where: { id: current.id }, data: { name: pinned.name, description: pinned.description ?? null } });
      await audit({ action: "job.version", entityType: "job", entityId: current.id, summary: `${principal.username} saved version ${version.number} of job ${pinned.name} (configuration apply)`, details: { version: version.number } }, tx);
      fields.push("definition");
    }
    if (current.active !== entry.active) {
      await tx.job.update({ where: { id: current.id }, data: { active: entry.active } });
      await audit({ action: "job.update", entityType: "job", entityId: current.id, summary: `${principal.username} ${entry.active ? "activated" : "deactivated"} job ${pinned.name} (configuration apply)`, details: { active: entry.active } }, tx);
      fields.push("active");
    }
    changes.push({ kind: "job", name: pinned.name, action: fields.length > 0 ? "change" : "unchanged", ...(fields.length > 0 ? { fields } : {}) });
  }
  return changes;
}

const SCHEDULE_FIELDS = ["cron", "timezone", "parameters", "enabled", "misfirePolicy", "overlapPolicy", "misfireMaxAgeSec"] as const;

async function applySchedules(tx: Db, schedules: readonly ConfigSchedule[], prune: boolean, principal: Principal, audit: Audit): Promise<ApplyChange[]> {
  const jobs = new Map((await tx.job.findMany({ select: { id: true, name: true, currentVersion: { select: { definition: true } } } })).map((j) => [key(j.name), j]));
  const rows = await tx.schedule.findMany({ include: { job: { select: { name: true } } }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
  const existing = new Map<string, (typeof rows)[number]>();
  for (const row of rows) {
    const k = scheduleKey({ job: row.job.name, name: row.name, cron: row.cron, timezone: row.timezone });
    if (!existing.has(k)) existing.set(k, row);
  }
  const changes: ApplyChange[] = [];
  const kept = new Set<string>();
  let touched = false;
  for (const [i, s] of schedules.entries()) {
    const prefix = `body.schedules[${i}]`;
    const job = jobs.get(key(s.job));
    if (!job?.currentVersion) throw validationFailed([{ path: `${prefix}.job`, message: `${prefix}.job names no job "${s.job}" (neither in the document nor on this instance)` }]);
    const plan = await under(prefix, async () => planSchedule(s.cron, s.timezone));
    const resolved = await under(prefix, async () => checkParameters(job.currentVersion!.definition, s.parameters, "body.parameters"));
    const secrets = Object.keys(s.parameters).filter((name) => resolved.secretNames.has(name) && s.parameters[name] !== undefined && s.parameters[name] !== null && s.parameters[name] !== "");
    if (secrets.length > 0) throw validationFailed(secrets.map((name) => ({ path: `${prefix}.parameters.${name}`, message: `${prefix}.parameters.${name} is a secret parameter; a schedule cannot store secret values` })));
    const label = scheduleLabel(s);
    const current = existing.get(scheduleKey(s));
    const data = { name: s.name, cron: s.cron, timezone: plan.timezone, parameters: s.parameters as Prisma.InputJsonValue, enabled: s.enabled, misfirePolicy: s.misfirePolicy, overlapPolicy: s.overlapPolicy, misfireMaxAgeSec: s.misfireMaxAgeSec };
    if (!current) {
      const created = await tx.schedule.create({ data: { ...data, jobId: job.id, nextRunAt: s.enabled ? plan.nextRuns[0]! : null, createdById: principal.id } });
      kept.add(created.id);
      touched = true;
      await audit({ action: "schedule.create", entityType: "schedule", entityId: created.id, summary: `${principal.username} scheduled job ${job.name} at "${s.cron}" (${plan.timezone}) (configuration apply)`, details: { jobId: job.id, cron: s.cron, timezone: plan.timezone, enabled: s.enabled } }, tx);
      changes.push({ kind: "schedule", name: label, action: "create" });
      continue;
    }
    kept.add(current.id);
    const have: Record<(typeof SCHEDULE_FIELDS)[number], unknown> = current;
    const fields = SCHEDULE_FIELDS.filter((f) => canonical(f === "timezone" ? plan.timezone : (data as Record<string, unknown>)[f]) !== canonical(have[f]));
    if (fields.length > 0) {
      const timing = fields.some((f) => f === "cron" || f === "timezone" || f === "enabled");
      await tx.schedule.update({ where: { id: current.id }, data: { ...data, ...(timing ? { nextRunAt: s.enabled ? plan.nextRuns[0]! : null } : {}) } });
      touched = true;
      await audit({ action: "schedule.update", entityType: "schedule", entityId: current.id, summary: `${principal.username} changed the schedule of job ${job.name} (configuration apply)`, details: { changed: fields } }, tx);
    }
    changes.push({ kind: "schedule", name: label, action: fields.length > 0 ? "change" : "unchanged", ...(fields.length > 0 ? { fields: [...fields] } : {}) });
  }
  if (prune) {
    for (const row of rows) {
      if (kept.has(row.id)) continue;
      await tx.schedule.delete({ where: { id: row.id } });
      touched = true;
      await audit({ action: "schedule.delete", entityType: "schedule", entityId: row.id, summary: `${principal.username} deleted a schedule of job ${row.job.name} (configuration apply)`, details: { jobId: row.jobId, cron: row.cron } }, tx);
      changes.push({ kind: "schedule", name: scheduleLabel({ job: row.job.name, name: row.name, cron: row.cron, timezone: row.timezone }), action: "delete" });
    }
  }
  if (touched) await notify(tx, SCHEDULES_CHANNEL, {});
  return changes;
}

async function pruneJobs(tx: Db, document: ConfigDocument, principal: Principal, audit: Audit): Promise<ApplyChange[]> {
  const wanted = new Set(document.jobs.map((j) => key(String(j.definition.name))));
  const changes: ApplyChange[] = [];
  for (const job of await tx.job.findMany({ select: { id: true, name: true }, orderBy: { name: "asc" } })) {
    if (wanted.has(key(job.name))) continue;
    const active = await tx.jobRun.count({ where: { jobId: job.id, status: { in: ["queued", "running"] } } });
    if (active > 0) throw new ApiError(409, "job_busy", `prune would delete job ${job.name}, which has ${active} queued or running run(s); wait for them or add the job to the document`);
    await tx.job.delete({ where: { id: job.id } });
    await audit({ action: "job.delete", entityType: "job", entityId: job.id, summary: `${principal.username} deleted job ${job.name} (configuration apply, prune)`, details: { name: job.name } }, tx);
    changes.push({ kind: "job", name: job.name, action: "delete" });
  }
  return changes;
}

async function pruneTargets(tx: Db, targets: readonly ConfigTarget[], audit: Audit): Promise<ApplyChange[]> {
  const wanted = new Set(targets.map((t) => key(t.name)));
  const changes: ApplyChange[] = [];
  for (const target of await tx.target.findMany({ select: { id: true, name: true, hostname: true }, orderBy: { name: "asc" } })) {
    if (wanted.has(key(target.name))) continue;
    const jobs = await jobsNamingTarget(tx, target);
    if (jobs.length > 0) throw new ApiError(409, "target_in_use", `prune would delete target ${target.name}, which the steps of ${jobs.join(", ")} name: add it to the document or change those jobs`);
    await tx.target.delete({ where: { id: target.id } });
    await audit({ action: "target.delete", entityType: "target", entityId: target.id, summary: `deleted target ${target.name} (configuration apply, prune)`, details: { name: target.name, hostname: target.hostname } }, tx);
    changes.push({ kind: "target", name: target.name, action: "delete" });
  }
  return changes;
}

