// The live side of a run page: GET /api/runs/{id}/events (Server-Sent Events, the browser's cookies)
// from the sequence the page's log snapshot covers, handing run, step and output events to the page.
// EventSource reconnects by itself and resumes with Last-Event-ID, so nothing is lost or repeated.
import { useEffect, useRef } from "react";
import type { LogChunk } from "./log-lines.ts";

export interface RunStreamHandlers<Run, Step> {
  onRun: (run: Run) => void;
  onStep: (step: Step) => void;
  onOutput: (chunks: LogChunk[]) => void;
  /** The run finished and all its output was sent (or the server ended the stream). */
  onEnd: () => void;
}

/** Follows a run live while `enabled`, resuming after `lastSequence`. */
export function useRunStream<Run, Step>(runId: string, lastSequence: number | null, enabled: boolean, handlers: RunStreamHandlers<Run, Step>): void {
  const latest = useRef(handlers);
  latest.current = handlers;
  useEffect(() => {
    if (!enabled) return;
    const query = lastSequence === null ? "" : `?lastEventId=${lastSequence}`;
    const source = new EventSource(`/api/runs/${runId}/events${query}`);
    // Output is handed over in batches (every 16 ms at most), however many chunks arrived in between.
    let batch: LogChunk[] = [];
    let scheduled: ReturnType<typeof setTimeout> | null = null;
    const flush = () => {
      scheduled = null;
      const chunks = batch;
      batch = [];
      if (chunks.length > 0) latest.current.onOutput(chunks);
    };
    source.addEventListener("output", (event) => {
      batch.push(JSON.parse((event as MessageEvent<string>).data) as LogChunk);
      scheduled ??= setTimeout(flush, 16);
    });
    source.addEventListener("run", (event) => latest.current.onRun(JSON.parse((event as MessageEvent<string>).data) as Run));
    source.addEventListener("step", (event) => latest.current.onStep(JSON.parse((event as MessageEvent<string>).data) as Step));
    const end = () => {
      source.close();
      if (scheduled) clearTimeout(scheduled);
      flush();
      latest.current.onEnd();
    };
    source.addEventListener("end", end);
    // The server ended the stream because the session ended: reloading asks the user to sign in again.
    source.addEventListener("error", (event) => {
      if ((event as MessageEvent<string>).data) end();
    });
    return () => {
      source.close();
      if (scheduled) clearTimeout(scheduled);
    };
    // lastSequence is where this page's snapshot ends: later values must not restart the stream.
  }, [runId, enabled]);
}
