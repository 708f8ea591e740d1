import { CARD, MUTED } from "../ui/styles.ts";

type Counts = Record<"created" | "retry" | "active" | "completed" | "cancelled" | "failed", number>;

const LABELS: readonly [keyof Counts, string][] = [
  ["created", "Waiting"],
  ["retry", "Due again"],
  ["active", "Active"],
  ["completed", "Completed"],
  ["cancelled", "Cancelled"],
  ["failed", "Failed"],
];

/** The run queue's pg-boss jobs by state, and how many runs wait in the dead-letter queue. */
export function QueuePanel({ queue, deadLetter }: { queue: Counts | null; deadLetter: Counts | null }) {
  return (
    <section aria-labelledby="queue-title" className={CARD}>
      <h2 id="queue-title" className="text-lg font-semibold">
        Run queue
      </h2>
      {queue === null ? (
        <p className={`mt-2 ${MUTED}`}>Unknown while the database is unreachable.</p>
      ) : (
        <dl className="mt-4 grid grid-cols-2 gap-4 sm:grid-cols-4 lg:grid-cols-7">
          {LABELS.map(([state, label]) => (
            <div key={state} className="min-w-0">
              <dt className={`text-sm ${MUTED}`}>{label}</dt>
              <dd className="text-xl font-semibold" data-testid={`queue-${state}`}>
                {queue[state]}
              </dd>
            </div>
          ))}
          <div className="min-w-0">
            <dt className={`text-sm ${MUTED}`}>Dead-lettered</dt>
            <dd className="text-xl font-semibold" data-testid="queue-dead-lettered">
              {(deadLetter?.created ?? 0) + (deadLetter?.retry ?? 0)}
            </dd>
          </div>
        </dl>
      )}
    </section>
  );
}
