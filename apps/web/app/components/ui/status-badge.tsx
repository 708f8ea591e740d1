/** A small green (ok) or red pill with a word of state. */
export function StatusBadge({ ok, children }: { ok: boolean; children: string }) {
  return (
    <span className={`rounded-full px-2 py-0.5 text-xs font-medium ${ok ? "bg-emerald-100 text-emerald-800 dark:bg-emerald-900/60 dark:text-emerald-200" : "bg-rose-100 text-rose-800 dark:bg-rose-900/60 dark:text-rose-200"}`}>
      {children}
    </span>
  );
}
