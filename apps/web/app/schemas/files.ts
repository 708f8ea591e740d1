// Names and queries of the file library. Browser-safe.
import { z } from "zod";
import { sortQuery } from "../lib/sort.ts";
import { pageQuery } from "./common.ts";

/** Header that may carry the file's name (percent-encoded UTF-8) instead of the `name` query parameter. */
export const FILE_NAME_HEADER = "x-file-name";

/** A file's name in the library: what steps refer to it by. */
export const fileNameSchema = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(255, "must be at most 255 characters long")
  .refine((name) => ![...name].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f), "must not contain control characters")
  .refine((name) => !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(name), "must not look like a file id (a UUID)");

/** The orders the file list can be read in. */
export const FILE_SORT_KEYS = ["name", "createdAt"] as const;

/** Query of GET /api/files (and of the Files page). */
export const fileListQuery = pageQuery.extend({
  q: z.string().trim().min(1).max(200).optional().meta({ description: "Only files whose name contains this (any case)" }),
  sort: sortQuery(FILE_SORT_KEYS, { key: "createdAt", direction: "desc" }).meta({ description: "Order: name or createdAt; a leading - for descending (default -createdAt, newest first)" }),
});

/** Query of POST /api/files; the name is checked with fileNameSchema afterwards, since the header may carry it instead. */
export const uploadQuery = z.object({ name: z.string().max(1000).optional().meta({ description: `The file's name (1-255 characters), unless sent in the ${FILE_NAME_HEADER} header` }) });

export type FileListQuery = z.infer<typeof fileListQuery>;

/** The Files page's upload form, checked in the browser before a byte is sent: a file of at most `maxBytes` and its name. */
export function uploadFormFor(maxBytes: number, tooLarge: string) {
  return z.object({ file: z.file({ error: "Choose a file to upload." }).max(maxBytes, tooLarge), name: fileNameSchema });
}
