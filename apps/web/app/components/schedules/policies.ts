// What each misfire and overlap policy does, in one sentence each: shown next to the choices and on
// a schedule's page. Browser-safe.
import type { MisfirePolicy, OverlapPolicy } from "@opsconductor/db/enums";

/** Label and one-sentence explanation of each misfire policy (what happens when a firing was missed, e.g. while no worker ran). */
export const MISFIRE_TEXT: Record<MisfirePolicy, { label: string; help: string }> = {
  skip: { label: "Skip missed runs", help: "A firing missed by more than a minute (no worker, scheduler stopped) is dropped; the schedule continues at its next time." },
  fire_once: { label: "Run once to catch up", help: "However many firings were missed, one run starts as soon as the scheduler is back, then the schedule continues." },
  fire_all: { label: "Run every missed firing", help: "Each missed firing up to the maximum age below starts its own run when the scheduler is back." },
};

/** Label and one-sentence explanation of each overlap policy (what happens when the previous run is still going). */
export const OVERLAP_TEXT: Record<OverlapPolicy, { label: string; help: string }> = {
  skip: { label: "Skip while running", help: "If this schedule's previous run is still queued or running, the firing is skipped." },
  queue: { label: "Queue behind it", help: "The new run is queued and starts when a worker is free, even if the previous one is still running." },
  cancel_previous: { label: "Cancel the previous run", help: "The previous run is canceled and the new one starts in its place." },
  allow: { label: "Run side by side", help: "The new run starts regardless of the previous one; both may run at the same time." },
};
