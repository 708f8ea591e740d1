import { useEffect, useState } from "react";

export interface ToastMessage {
  kind: "success" | "error";
  message: string;
}

const TOAST_MS = 8000;

/**
 * The message after an action, in a live region so screen readers announce it. Pass a new object
 * for each action (the action's data): the same text twice is announced twice.
 */
export function Toast({ toast }: { toast: ToastMessage | null | undefined }) {
  const [shown, setShown] = useState(toast ?? null);
  useEffect(() => {
    setShown(toast ?? null);
    if (!toast) return;
    const timer = setTimeout(() => setShown(null), TOAST_MS);
    return () => clearTimeout(timer);
  }, [toast]);
  return (
    <div role="status" aria-live="polite" className="pointer-events-none fixed inset-x-4 bottom-4 z-50 flex justify-end sm:left-auto sm:w-96">
      {shown && (
        <div
          data-testid="toast"
          className={`pointer-events-auto flex w-full items-start gap-3 rounded-lg px-4 py-3 text-sm shadow-lg ${shown.kind === "success" ? "bg-emerald-800 text-white dark:bg-emerald-300 dark:text-emerald-950" : "bg-rose-800 text-white dark:bg-rose-300 dark:text-rose-950"}`}
        >
          <p className="flex-1">{shown.message}</p>
          <button type="button" onClick={() => setShown(null)} aria-label="Dismiss message" className="rounded px-1 font-semibold focus-visible:outline-2 focus-visible:outline-current">
            ×
          </button>
        </div>
      )}
    </div>
  );
}
