// Where the default handler's copy model keeps files: the server's in-memory map, or a folder on
// disk (the fileRoot option), where a copy of any size streams to a file and costs no memory.
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";

/** An open file being written. */
export interface FileSink {
  write(data: Buffer): Promise<void>;
  /** Safe to call twice. */
  close(): Promise<void>;
}

/** The few file operations the copy model needs, on normalised Windows paths. */
export interface FileStore {
  kind(path: string): Promise<"file" | "folder" | undefined>;
  /** Creates or truncates the file (and its folder), as FileMode.Create does. */
  create(path: string): Promise<FileSink>;
  /** Renames `from` to `to`, replacing `to`. */
  move(from: string, to: string): Promise<void>;
  /** Deletes the file if it exists. */
  remove(path: string): Promise<void>;
}

/** The file under `root` that stands for a normalised Windows path: C:\a\b.txt is <root>/C/a/b.txt. */
export function windowsPathOnDisk(root: string, path: string): string {
  const segments = path.split("\\").filter((s) => s !== "");
  if (segments.some((s) => s === "." || s === "..")) throw new Error(`the test server does not resolve "." or ".." in ${path}`);
  return join(root, ...segments.map((s, i) => (i === 0 ? s.replace(/:$/, "") : s)));
}

/** Files in the server's map; a file being written appears when it is closed. */
export function memoryStore(files: Map<string, Buffer>): FileStore {
  return {
    async kind(path) {
      if (files.has(path)) return "file";
      const prefix = `${path}\\`;
      for (const key of files.keys()) if (key.startsWith(prefix)) return "folder";
      return undefined;
    },
    async create(path) {
      files.set(path, Buffer.alloc(0));
      const parts: Buffer[] = [];
      let closed = false;
      return {
        async write(data) {
          parts.push(data);
        },
        async close() {
          if (closed) return;
          closed = true;
          files.set(path, Buffer.concat(parts));
        },
      };
    },
    async move(from, to) {
      const data = files.get(from);
      if (data === undefined) throw new Error(`Could not find file '${from}'.`);
      files.delete(from);
      files.set(to, data);
    },
    async remove(path) {
      files.delete(path);
    },
  };
}

/** Files under a folder on disk. */
export function diskStore(root: string): FileStore {
  const at = (path: string): string => windowsPathOnDisk(root, path);
  return {
    async kind(path) {
      try {
        return (await stat(at(path))).isDirectory() ? "folder" : "file";
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOENT" || code === "ENOTDIR") return undefined;
        throw error;
      }
    },
    async create(path) {
      const file = at(path);
      await mkdir(dirname(file), { recursive: true });
      const handle = await open(file, "w");
      let closed: Promise<void> | undefined;
      return {
        async write(data) {
          for (let offset = 0; offset < data.length; ) offset += (await handle.write(data, offset, data.length - offset)).bytesWritten;
        },
        close: () => (closed ??= handle.close()),
      };
    },
    async move(from, to) {
      await rename(at(from), at(to));
    },
    async remove(path) {
      await rm(at(path), { force: true });
    },
  };
}
