/** Error thrown by data-access functions; `status` is the HTTP status an API should answer with. */
export class DbError extends Error {
  readonly code: "conflict" | "not_found" | "in_use" | "immutable";
  readonly status: number;
  readonly field: string | undefined;
  constructor(code: DbError["code"], message: string, field?: string) {
    super(message);
    this.name = "DbError";
    this.code = code;
    this.field = field;
    this.status = code === "not_found" ? 404 : 409;
  }
}

interface PrismaLikeError {
  code?: string;
  meta?: {
    target?: string[] | string;
    driverAdapterError?: { cause?: { constraint?: { fields?: string[]; index?: string }; table?: string } };
  };
}

const camel = (name: string) => name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

// With driver adapters Prisma reports the violated index ("users_username_key"), not the fields.
function uniqueField(error: PrismaLikeError): string | undefined {
  const cause = error.meta?.driverAdapterError?.cause;
  const fields = cause?.constraint?.fields;
  if (fields?.length) return camel(fields[fields.length - 1]!.replaceAll('"', ""));
  const index = cause?.constraint?.index;
  if (index && cause?.table && index.startsWith(`${cause.table}_`)) {
    return camel(index.slice(cause.table.length + 1).replace(/_key$/, ""));
  }
  const target = error.meta?.target;
  return Array.isArray(target) ? target.at(-1) : target;
}

/**
 * The DbError a Prisma error stands for (a unique violation, a foreign-key refusal, a missing
 * record), or undefined for any other error. The one place that knows Prisma's error codes.
 */
export function toDbError(error: unknown, entity: string): DbError | undefined {
  const e = error as PrismaLikeError;
  if (e?.code === "P2002") {
    const field = uniqueField(e);
    return new DbError("conflict", `a ${entity} with this ${field ?? "value"} already exists`, field);
  }
  if (e?.code === "P2003") return new DbError("in_use", `this ${entity} is still referenced by other records`);
  if (e?.code === "P2025") return new DbError("not_found", `${entity} not found`);
  return undefined;
}

/** Turns Prisma's unique-violation and foreign-key errors into DbError; rethrows anything else. */
export function translatePrismaError(error: unknown, entity: string): never {
  throw toDbError(error, entity) ?? error;
}
