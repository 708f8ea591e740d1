// How the retention panels write a policy's limits and a pass's counts. Browser-safe.

/** "90 days", "1 day", or "no limit" for 0. */
export function formatDays(days: number): string {
  if (days === 0) return "no limit";
  return `${days.toLocaleString("en-US")} ${days === 1 ? "day" : "days"}`;
}

/** "the newest 500 runs", or "no limit" for 0. */
export function formatRunCount(count: number): string {
  if (count === 0) return "no limit";
  return `the newest ${count.toLocaleString("en-US")} ${count === 1 ? "run" : "runs"}`;
}

/** A timer's period in words: "every hour", "every 15 minutes", "every 2 days", "every 45 seconds". */
export function formatEvery(seconds: number): string {
  const units: [number, string][] = [
    [86_400, "day"],
    [3_600, "hour"],
    [60, "minute"],
    [1, "second"],
  ];
  for (const [size, unit] of units) {
    if (seconds >= size && seconds % size === 0) {
      const n = seconds / size;
      return n === 1 ? `every ${unit}` : `every ${n} ${unit}s`;
    }
  }
  return `every ${seconds} seconds`;
}

/** Which limit of a policy a field is. */
export type RetentionKey = "runDays" | "runCount" | "outputDays";

/** A limit's value in words. */
export function formatLimit(key: RetentionKey, value: number): string {
  return key === "runCount" ? formatRunCount(value) : formatDays(value);
}
