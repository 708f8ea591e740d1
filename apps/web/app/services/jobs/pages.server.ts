// What the job pages share on the server: the job the address names, and a 404 page for a job
// that does not exist (a malformed id names none either).
import { data } from "@remix-run/node";
import { idParams } from "../../schemas/common.ts";
import { ApiError } from "../errors.server.ts";

const notFoundPage = () => data(null, { status: 404, headers: { "Cache-Control": "no-store" } });

/** The job id of the address; the 404 page when it is not a UUID. */
export function jobIdOf(params: Record<string, string | undefined>): string {
  const parsed = idParams.safeParse(params);
  if (!parsed.success) throw notFoundPage();
  return parsed.data.id;
}

/** `read`'s answer, or the 404 page when the service says the job (or version) does not exist. */
export async function orNotFound<T>(read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) throw notFoundPage();
    throw error;
  }
}
