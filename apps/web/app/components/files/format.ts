// How the file pages write sizes and digests. Browser-safe.

const UNITS = ["KiB", "MiB", "GiB", "TiB"] as const;

/** A byte count for people: "512 B", "3.4 MiB", "120 MiB", "1.0 GiB" (powers of 1024). */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  // Rounded like the next unit up would be, so 1023.97 KiB never shows as "1024 KiB".
  const shown = value < 10 ? value.toFixed(1) : String(Math.round(value));
  if (shown === "1024" && unit < UNITS.length - 1) return `1.0 ${UNITS[unit + 1]}`;
  return `${shown} ${UNITS[unit]}`;
}

/** The first characters of a SHA-256, enough to tell files apart at a glance. */
export const shortDigest = (sha256: string) => sha256.slice(0, 12);
