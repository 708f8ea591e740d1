import { useRevalidator } from "@remix-run/react";
import { useEffect } from "react";

/**
 * Reloads the page's loader data every `intervalMs` while the tab is visible and no dialog is open: how the system page
 * and the dashboard stay live (worker heartbeats and run states change without any event to hear).
 */
export function useLiveData(intervalMs = 5_000): void {
  const { revalidate, state } = useRevalidator();
  useEffect(() => {
    const timer = setInterval(() => {
      // Never under an open confirmation: a refresh could re-render the dialog the user is answering.
      if (document.visibilityState === "visible" && state === "idle" && !document.querySelector("dialog[open]")) revalidate();
    }, intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs, revalidate, state]);
}
