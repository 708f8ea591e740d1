import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";

export interface ToastMessage {
  kind: "success" | "error";
  message: string;
}

const TOAST_MS = 8000;

// The shell's one live region; pages hand their toasts to it.
const ToastContext = createContext<((toast: ToastMessage) => void) | null>(null);

function ToastView({ shown, dismiss }: { shown: ToastMessage | null; dismiss: () => void }) {
  return (
    <div role="status" aria-live="polite" className="pointer-events-none fixed inset-x-4 bottom-4 z-50 flex justify-end sm:left-auto sm:w-96">
      {shown && (
        <div
          data-testid="toast"
          className={`pointer-events-auto flex w-full items-start gap-3 rounded-lg px-4 py-3 text-sm shadow-lg ${shown.kind === "success" ? "bg-emerald-800 text-white dark:bg-emerald-300 dark:text-emerald-950" : "bg-rose-800 text-white dark:bg-rose-300 dark:text-rose-950"}`}
        >
          <p className="flex-1">{shown.message}</p>
          <button type="button" onClick={dismiss} aria-label="Dismiss message" className="rounded px-1 font-semibold focus-visible:outline-2 focus-visible:outline-current">
            ×
          </button>
        </div>
      )}
    </div>
  );
}

// Shows the latest toast for a while; a new object restarts the timer (the same text twice is announced twice).
function useShownToast(): [ToastMessage | null, (toast: ToastMessage | null) => void] {
  const [shown, setShown] = useState<ToastMessage | null>(null);
  useEffect(() => {
    if (!shown) return;
    const timer = setTimeout(() => setShown(null), TOAST_MS);
    return () => clearTimeout(timer);
  }, [shown]);
  return [shown, setShown];
}

/**
 * The app shell's toast region: shows `initial` (a toast left by the action before a redirect) and
 * every toast the page's `<Toast>` elements hand it, one at a time, in one polite live region.
 */
export function ToastRegion({ initial, children }: { initial?: ToastMessage | null; children: ReactNode }) {
  const [shown, setShown] = useShownToast();
  useEffect(() => {
    if (initial) setShown(initial);
  }, [initial, setShown]);
  const show = useCallback((toast: ToastMessage) => setShown(toast), [setShown]);
  const value = useMemo(() => show, [show]);
  return (
    <ToastContext.Provider value={value}>
      {children}
      <ToastView shown={shown} dismiss={() => setShown(null)} />
    </ToastContext.Provider>
  );
}

/**
 * The message after an action, announced to screen readers. Pass a new object for each action (the
 * action's data). Inside the app shell it goes to the shell's region; elsewhere it draws its own.
 */
export function Toast({ toast }: { toast: ToastMessage | null | undefined }) {
  const region = useContext(ToastContext);
  const [shown, setShown] = useShownToast();
  useEffect(() => {
    if (!toast) return;
    if (region) region(toast);
    else setShown(toast);
  }, [toast, region, setShown]);
  if (region) return null;
  return <ToastView shown={shown} dismiss={() => setShown(null)} />;
}
