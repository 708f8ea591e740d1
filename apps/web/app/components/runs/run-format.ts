// How run pages write times and durations. Browser-safe.

/** "1.2 s", "3 min 05 s", "2 h 04 min" from `start` to `end` (or to `now` while it goes on); null when it cannot be told yet. */
export function formatDuration(start: string | Date, end: string | Date | null, now: number | null): string | null {
  const from = new Date(start).getTime();
  const to = end ? new Date(end).getTime() : now;
  if (to === null) return null;
  const ms = Math.max(0, to - from);
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, "0")} s`;
  return `${Math.floor(seconds / 3600)} h ${String(Math.floor((seconds % 3600) / 60)).padStart(2, "0")} min`;
}
