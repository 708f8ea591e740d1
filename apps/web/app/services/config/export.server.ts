// GET /api/export: the configuration as one portable document. Ids are replaced by names (a step's
// target, a copy step's file, a target's credential and dependencies), so the document means the
// same on another instance; secrets never enter it (credentials appear only by name).
import { fileReferences, type PrismaClient } from "@opsconductor/db";
import { stringify } from "yaml";
import { CONFIG_API_VERSION, CONFIG_KIND, type ConfigDocumentInput } from "../../schemas/config-document.ts";
import { toTargetView, targetInclude } from "../targets/queries.server.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Definition = { name: string; steps?: Record<string, unknown>[] } & Record<string, unknown>;

/** A stored definition with its ids turned into names: steps' targets, copy steps' files (kept with their SHA-256). */
export function portableDefinition(definition: Definition, targetNames: ReadonlyMap<string, string>, fileNames: ReadonlyMap<string, string>): Definition {
  if (!Array.isArray(definition.steps)) return definition;
  const steps = definition.steps.map((step) => {
    const next = { ...step };
    if (typeof next.target === "string" && UUID.test(next.target) && targetNames.has(next.target.toLowerCase())) next.target = targetNames.get(next.target.toLowerCase());
    return next;
  });
  for (const ref of fileReferences(definition)) {
    const name = fileNames.get(ref.file);
    if (name) steps[ref.stepIndex] = { ...steps[ref.stepIndex], file: name };
  }
  return { ...definition, steps };
}

/** Every job (at its current version), target, schedule and referenced library file, as one document. */
export async function exportConfiguration(db: PrismaClient, metadata: Record<string, unknown> = {}): Promise<ConfigDocumentInput> {
  return db.$transaction(
    async (tx) => {
      const [targets, jobs, schedules] = await Promise.all([
        tx.target.findMany({ include: targetInclude, orderBy: { name: "asc" } }),
        tx.job.findMany({ select: { id: true, name: true, active: true, currentVersion: { select: { definition: true, files: { select: { file: { select: { id: true, name: true, sha256: true, size: true } } } } } } }, orderBy: { name: "asc" } }),
        tx.schedule.findMany({ include: { job: { select: { name: true } } }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] }),
      ]);
      const targetNames = new Map(targets.map((t) => [t.id.toLowerCase(), t.name]));
      const files = new Map<string, { name: string; sha256: string; size: number }>();
      for (const job of jobs) for (const { file } of job.currentVersion?.files ?? []) files.set(file.id, { name: file.name, sha256: file.sha256, size: Number(file.size) });
      const fileNames = new Map([...files].map(([id, f]) => [id, f.name]));
      const uniqueFiles = [...new Map([...files.values()].map((f) => [`${f.name.toLowerCase()}\0${f.sha256}`, f])).values()].sort((a, b) => a.name.localeCompare(b.name) || a.sha256.localeCompare(b.sha256));
      return {
        apiVersion: CONFIG_API_VERSION,
        kind: CONFIG_KIND,
        metadata: { exportedAt: new Date().toISOString(), ...metadata },
        targets: targets.map((row) => {
          const t = toTargetView(row);
          return {
            name: t.name,
            hostname: t.hostname,
            port: t.port,
            os: t.os,
            winrm: t.winrm,
            credential: t.credential?.name ?? null,
            tags: t.tags,
            description: t.description,
            dependsOn: t.dependsOn.map((d) => d.name).sort(),
          };
        }),
        jobs: jobs
          .filter((job) => job.currentVersion)
          .map((job) => ({ active: job.active, definition: portableDefinition(job.currentVersion!.definition as Definition, targetNames, fileNames) })),
        schedules: schedules.map((s) => ({
          job: s.job.name,
          name: s.name,
          cron: s.cron,
          timezone: s.timezone,
          parameters: s.parameters as Record<string, unknown>,
          enabled: s.enabled,
          misfirePolicy: s.misfirePolicy,
          overlapPolicy: s.overlapPolicy,
          misfireMaxAgeSec: s.misfireMaxAgeSec,
        })),
        files: uniqueFiles,
      };
    },
    // One snapshot: a job saved mid-export cannot appear with a schedule of its old self.
    { isolationLevel: "RepeatableRead" },
  );
}

/** The document as YAML or JSON text, with its media type. */
export function serializeDocument(document: ConfigDocumentInput, format: "yaml" | "json"): { body: string; contentType: string } {
  if (format === "json") return { body: `${JSON.stringify(document, null, 2)}\n`, contentType: "application/json; charset=utf-8" };
  return { body: stringify(document, { lineWidth: 0 }), contentType: "application/yaml; charset=utf-8" };
}
