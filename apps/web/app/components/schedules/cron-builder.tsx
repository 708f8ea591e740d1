// The cron builder: presets (every N minutes, hourly, daily at, weekdays at, monthly on) that write
// the expression, and the raw field (5 fields, or 6 with seconds first) checked as you type with
// core's own rules, the ones the server and the scheduler use.
import { validateCron } from "@opsconductor/core/schema";
import cronstrue from "cronstrue";
import { useId, useState } from "react";
import { describedBy, ErrorList, type AnyField } from "../ui/field.tsx";
import { CONTROL, MUTED } from "../ui/styles.ts";

type Preset = "minutes" | "hourly" | "daily" | "weekdays" | "monthly" | "custom";

interface PresetValues {
  every: number;
  minute: number;
  time: string;
  day: number;
}

const PRESETS: { value: Preset; label: string }[] = [
  { value: "minutes", label: "Every N minutes" },
  { value: "hourly", label: "Hourly" },
  { value: "daily", label: "Daily at" },
  { value: "weekdays", label: "Weekdays at" },
  { value: "monthly", label: "Monthly on" },
  { value: "custom", label: "Custom expression" },
];

function hm(time: string): [number, number] {
  const [h, m] = time.split(":").map(Number);
  return [Number.isFinite(h) ? h! : 0, Number.isFinite(m) ? m! : 0];
}

/** The expression a preset writes. */
export function presetCron(preset: Exclude<Preset, "custom">, v: PresetValues): string {
  const [h, m] = hm(v.time);
  switch (preset) {
    case "minutes":
      return `*/${Math.max(1, Math.min(59, v.every))} * * * *`;
    case "hourly":
      return `${v.minute} * * * *`;
    case "daily":
      return `${m} ${h} * * *`;
    case "weekdays":
      return `${m} ${h} * * 1-5`;
    case "monthly":
      return `${m} ${h} ${v.day} * *`;
  }
}

/** Which preset wrote `cron`, with its values; custom when none did. */
function detect(cron: string): { preset: Preset; values: PresetValues } {
  const values: PresetValues = { every: 15, minute: 0, time: "03:00", day: 1 };
  const pad = (n: string) => n.padStart(2, "0");
  let match = /^\*\/(\d+) \* \* \* \*$/.exec(cron);
  if (match) return { preset: "minutes", values: { ...values, every: Number(match[1]) } };
  match = /^(\d+) \* \* \* \*$/.exec(cron);
  if (match) return { preset: "hourly", values: { ...values, minute: Number(match[1]) } };
  match = /^(\d+) (\d+) (\*|\d+) \* (\*|1-5)$/.exec(cron);
  if (match) {
    const time = `${pad(match[2]!)}:${pad(match[1]!)}`;
    if (match[3] === "*" && match[4] === "*") return { preset: "daily", values: { ...values, time } };
    if (match[3] === "*" && match[4] === "1-5") return { preset: "weekdays", values: { ...values, time } };
    if (match[3] !== "*" && match[4] === "*") return { preset: "monthly", values: { ...values, time, day: Number(match[3]) } };
  }
  return { preset: "custom", values };
}

/** The expression in words, or null when cronstrue cannot say it. */
export function cronInWords(cron: string): string | null {
  try {
    return cronstrue.toString(cron, { use24HourTimeFormat: true, verbose: false });
  } catch {
    return null;
  }
}

/** The cron builder; `meta` is the form's cron field (its server errors show under the raw field). */
export function CronBuilder({ meta, timezone, onChange }: { meta: AnyField; timezone: string; onChange: (cron: string) => void }) {
  const initial = String(meta.initialValue ?? "0 3 * * *");
  const [cron, setCron] = useState(initial);
  const first = detect(initial);
  const [preset, setPreset] = useState<Preset>(first.preset);
  const [values, setValues] = useState<PresetValues>(first.values);
  const id = useId();

  const write = (next: string) => {
    setCron(next);
    onChange(next);
  };
  const choose = (next: Preset, nextValues = values) => {
    setPreset(next);
    setValues(nextValues);
    if (next !== "custom") write(presetCron(next, nextValues));
  };
  const change = (patch: Partial<PresetValues>) => choose(preset, { ...values, ...patch });

  const problem = cron.trim() === "" ? { message: "Enter a cron expression, such as 0 3 * * *." } : validateCron(cron, timezone)?.path === "cron" ? validateCron(cron, timezone) : null;
  const live = problem ? [problem.message.charAt(0).toUpperCase() + problem.message.slice(1)] : [];
  const errors = live.length > 0 ? live : cron === initial ? (meta.errors ?? []) : [];
  const words = problem ? null : cronInWords(cron);
  const helpId = `${id}-words`;

  return (
    <fieldset className="space-y-3">
      <legend className="text-sm font-medium text-slate-800 dark:text-slate-200">When it runs</legend>
      <div className="grid gap-3 sm:grid-cols-3">
        <div>
          <label htmlFor={`${id}-preset`} className="block text-sm font-medium text-slate-800 dark:text-slate-200">
            Repeat
          </label>
          <select id={`${id}-preset`} value={preset} onChange={(e) => choose(e.target.value as Preset)} className={`mt-1 ${CONTROL}`}>
            {PRESETS.map((p) => (
              <option key={p.value} value={p.value}>
                {p.label}
              </option>
            ))}
          </select>
        </div>
        {preset === "minutes" && (
          <NumberInput id={`${id}-every`} label="Every (minutes)" min={1} max={59} value={values.every} onChange={(every) => change({ every })} />
        )}
        {preset === "hourly" && <NumberInput id={`${id}-minute`} label="At minute" min={0} max={59} value={values.minute} onChange={(minute) => change({ minute })} />}
        {preset === "monthly" && <NumberInput id={`${id}-day`} label="On day of month" min={1} max={31} value={values.day} onChange={(day) => change({ day })} />}
        {(preset === "daily" || preset === "weekdays" || preset === "monthly") && (
          <div>
            <label htmlFor={`${id}-time`} className="block text-sm font-medium text-slate-800 dark:text-slate-200">
              At (local time)
            </label>
            <input id={`${id}-time`} type="time" value={values.time} onChange={(e) => change({ time: e.target.value })} className={`mt-1 ${CONTROL}`} />
          </div>
        )}
      </div>
      <div>
        <label htmlFor={meta.id} className="block text-sm font-medium text-slate-800 dark:text-slate-200">
          Cron expression
        </label>
        <input
          id={meta.id}
          name={meta.name}
          value={cron}
          spellCheck={false}
          autoComplete="off"
          onChange={(e) => {
            const next = e.target.value;
            const found = detect(next.trim());
            setPreset(found.preset);
            if (found.preset !== "custom") setValues(found.values);
            write(next);
          }}
          aria-invalid={errors.length > 0 || undefined}
          aria-describedby={[helpId, describedBy(meta, undefined, errors.length > 0)].filter(Boolean).join(" ")}
          className={`mt-1 font-mono ${CONTROL}`}
        />
        <p id={helpId} className={`mt-1 text-sm ${MUTED}`}>
          {words ? <span data-testid="cron-words">{words}.</span> : null} Five fields (minute hour day-of-month month day-of-week), or six with seconds first, e.g. <code>*/10 * * * * *</code>.
        </p>
        <ErrorList id={meta.errorId} errors={errors} />
      </div>
    </fieldset>
  );
}

function NumberInput({ id, label, min, max, value, onChange }: { id: string; label: string; min: number; max: number; value: number; onChange: (n: number) => void }) {
  return (
    <div>
      <label htmlFor={id} className="block text-sm font-medium text-slate-800 dark:text-slate-200">
        {label}
      </label>
      <input id={id} type="number" min={min} max={max} value={value} onChange={(e) => onChange(Number(e.target.value))} className={`mt-1 ${CONTROL}`} />
    </div>
  );
}
