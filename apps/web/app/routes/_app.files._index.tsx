import type { MetaFunction } from "@remix-run/node";
import { Link, useLoaderData, useRevalidator } from "@remix-run/react";
import { useEffect, useState } from "react";
import { FileUpload } from "../components/files/file-upload.tsx";
import { formatBytes, shortDigest } from "../components/files/format.ts";
import { Button } from "../components/ui/button.tsx";
import { DataTable, FilterForm, FilterInput, type Column } from "../components/ui/data-table.tsx";
import { EmptyState } from "../components/ui/empty-state.tsx";
import { PageHeader } from "../components/ui/page-header.tsx";
import { CARD, MUTED } from "../components/ui/styles.ts";
import { When } from "../components/ui/when.tsx";
import { env } from "../env.server.ts";
import { pageLoader, readPageQuery } from "../http/page.server.ts";
import { can } from "../lib/permissions.ts";
import { fileListQuery } from "../schemas/files.ts";
import { listFiles } from "../services/files/queries.server.ts";

export const meta: MetaFunction = () => [{ title: "OpsConductor · Files" }];

export const loader = pageLoader({ permission: "files:read" }, async ({ db, user, request }) => {
  const query = readPageQuery(request, fileListQuery);
  const { items, nextCursor } = await listFiles(db, query);
  return { items, nextCursor, sort: query.sort, q: query.q ?? "", canWrite: can(user.role, "files:write"), maxBytes: env().FILE_UPLOAD_MAX_BYTES };
});

type FileRow = ReturnType<typeof useLoaderData<typeof loader>>["items"][number];

/** The first characters of a digest, the whole of it on hover, and a button that copies it. */
function Digest({ name, sha256 }: { name: string; sha256: string }) {
  // The clipboard exists only in a secure context (HTTPS or localhost), and only after hydration.
  const [canCopy, setCanCopy] = useState(false);
  const [copied, setCopied] = useState(false);
  useEffect(() => setCanCopy(typeof navigator !== "undefined" && Boolean(navigator.clipboard)), []);
  useEffect(() => {
    if (!copied) return;
    const timer = setTimeout(() => setCopied(false), 2000);
    return () => clearTimeout(timer);
  }, [copied]);
  return (
    <span className="inline-flex items-center gap-1.5">
      <code title={sha256} data-sha256={sha256} className="font-mono text-xs">
        {shortDigest(sha256)}…
      </code>
      {canCopy && (
        <Button
          variant="secondary"
          aria-label={copied ? `Copied the SHA-256 of ${name}` : `Copy the SHA-256 of ${name}`}
          onClick={() => navigator.clipboard.writeText(sha256).then(() => setCopied(true))}
        >
          {copied ? "Copied" : "Copy"}
        </Button>
      )}
    </span>
  );
}

const COLUMNS: Column<FileRow>[] = [
  {
    key: "name",
    header: "Name",
    sortKey: "name",
    cell: (row) => (
      <Link to={`/files/${row.id}`} className="font-medium break-all text-sky-700 underline-offset-2 hover:underline dark:text-sky-300">
        {row.name}
      </Link>
    ),
  },
  {
    key: "size",
    header: "Size",
    cell: (row) => (
      <span title={`${row.size.toLocaleString("en")} bytes`} className="whitespace-nowrap tabular-nums">
        {formatBytes(row.size)}
      </span>
    ),
    className: "text-right",
  },
  { key: "sha256", header: "SHA-256", cell: (row) => <Digest name={row.name} sha256={row.sha256} />, secondary: true },
  { key: "uploader", header: "Uploaded by", cell: (row) => row.uploadedBy?.username ?? <span className={MUTED}>unknown</span>, secondary: true },
  { key: "uploaded", header: "Uploaded", sortKey: "createdAt", firstDirection: "desc", cell: (row) => <When at={row.createdAt} />, secondary: true },
];

export default function Files() {
  const data = useLoaderData<typeof loader>();
  const { revalidate } = useRevalidator();
  const empty = data.q ? (
    <EmptyState title="No file matches this name">Clear the filter to see every file.</EmptyState>
  ) : (
    <EmptyState title="No files yet">{data.canWrite ? "Upload a file above: copy steps of jobs send files from this library to targets." : "Files that copy steps send to targets appear here once someone uploads them."}</EmptyState>
  );
  return (
    <div className="space-y-6">
      <PageHeader title="Files" description="The file library: what copy steps send to targets. Every worker reads the same stored bytes." />
      {data.canWrite && (
        <section aria-labelledby="upload-title" className={CARD}>
          <h2 id="upload-title" className="mb-4 text-lg font-semibold">
            Upload a file
          </h2>
          <FileUpload maxBytes={data.maxBytes} onUploaded={() => revalidate()} />
        </section>
      )}
      <section aria-label="Library">
        <FilterForm label="Filter files">
          <FilterInput name="q" label="Name contains" defaultValue={data.q} />
        </FilterForm>
        <DataTable label="Files" columns={COLUMNS} rows={data.items} rowKey={(row) => row.id} sort={data.sort} nextCursor={data.nextCursor} empty={empty} />
      </section>
    </div>
  );
}
