// A run's status as a pill: green when it succeeded, red when it failed or timed out, neutral while
// it waits or runs and when it was canceled.
const TONES: Record<string, string> = {
  succeeded: "bg-emerald-100 text-emerald-800 dark:bg-emerald-900/60 dark:text-emerald-200",
  failed: "bg-rose-100 text-rose-800 dark:bg-rose-900/60 dark:text-rose-200",
  timed_out: "bg-rose-100 text-rose-800 dark:bg-rose-900/60 dark:text-rose-200",
  running: "bg-sky-100 text-sky-800 dark:bg-sky-900/60 dark:text-sky-200",
  queued: "bg-slate-100 text-slate-800 dark:bg-slate-800 dark:text-slate-200",
  canceled: "bg-amber-100 text-amber-900 dark:bg-amber-900/60 dark:text-amber-100",
};

/** A run status ("timed_out" reads "timed out") in a pill coloured by outcome. */
export function RunStatusBadge({ status }: { status: string }) {
  return <span className={`rounded-full px-2 py-0.5 text-xs font-medium whitespace-nowrap ${TONES[status] ?? TONES.queued}`}>{status.replace(/_/g, " ")}</span>;
}
