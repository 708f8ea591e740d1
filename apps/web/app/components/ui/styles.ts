// The kit's shared class strings, so every control looks and focuses the same way.

/** Inputs and selects. */
export const CONTROL =
  "block w-full min-w-0 rounded-md border border-slate-300 bg-white px-3 py-2 text-slate-900 placeholder:text-slate-400 focus-visible:border-sky-500 focus-visible:outline-2 focus-visible:outline-offset-1 focus-visible:outline-sky-500 aria-invalid:border-rose-500 dark:border-slate-600 dark:bg-slate-900 dark:text-slate-100 dark:aria-invalid:border-rose-400";

/** A card: the panel pages group their content in. */
export const CARD = "rounded-xl border border-slate-200 bg-white p-4 shadow-sm sm:p-6 dark:border-slate-800 dark:bg-slate-900";

/** Muted text: help lines, labels of read-only values. */
export const MUTED = "text-slate-600 dark:text-slate-400";
