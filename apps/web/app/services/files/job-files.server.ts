// Job versions refer to library files: each `winrm.copy` step's file is pinned to one stored file
// when a version is saved.
import type { JobDefinition } from "@opsconductor/core";
import { DbError, fileReferences, findLibraryFile, type Db } from "@opsconductor/db";
import { ApiError, validationFailed, type ErrorDetail } from "../errors.server.ts";

/**
 * Pins each `winrm.copy` step's `file` (a name or an id) to one stored file: the saved version
 * carries its id and SHA-256, so later uploads under the same name change only versions saved
 * after them. Problems are 400s naming `body.steps[i].file`.
 */
export async function pinFiles(db: Db, definition: JobDefinition): Promise<JobDefinition> {
  const refs = fileReferences(definition);
  if (refs.length === 0) return definition;
  const steps = [...definition.steps];
  const details: ErrorDetail[] = [];
  for (const ref of refs) {
    const file = await findLibraryFile(db, ref.file, ref.sha256);
    if (!file) {
      const path = `body.steps[${ref.stepIndex}].file`;
      const message = ref.sha256 ? `${path} names no file in the library with SHA-256 ${ref.sha256}: "${ref.file}"` : `${path} names no file in the library: "${ref.file}" (upload it with POST /api/files first)`;
      details.push({ path, message });
      continue;
    }
    steps[ref.stepIndex] = { ...steps[ref.stepIndex]!, file: file.id, sha256: file.sha256 } as JobDefinition["steps"][number];
  }
  if (details.length > 0) throw validationFailed(details);
  return { ...definition, steps };
}

/** Maps the data layer's refusal of an unknown file id to the API's 400. */
export function fileLinkError(error: unknown): never {
  if (error instanceof DbError && error.code === "not_found" && error.field?.startsWith("steps[")) {
    const path = `body.${error.field}`;
    throw new ApiError(400, "validation_failed", `body.${error.message}`, { details: [{ path, message: `body.${error.message}` }] });
  }
  throw error;
}
