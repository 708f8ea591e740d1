// An IANA time zone field with search: the runtime's zone list (Intl.supportedValuesOf) offered as
// you type, any known name accepted.
import { isValidTimeZone } from "@opsconductor/core/schema";
import { useEffect, useId, useState } from "react";
import { describedBy, ErrorList, type AnyField } from "../ui/field.tsx";
import { CONTROL, MUTED } from "../ui/styles.ts";

function zones(): string[] {
  try {
    return ["UTC", ...Intl.supportedValuesOf("timeZone").filter((z) => z !== "UTC")];
  } catch {
    return ["UTC"];
  }
}

/** The zone field; `onChange` gets every typed value (valid or not). */
export function ZonePicker({ meta, onChange }: { meta: AnyField; onChange: (zone: string) => void }) {
  const initial = String(meta.initialValue ?? "UTC");
  const [zone, setZone] = useState(initial);
  const [list, setList] = useState<string[]>([]);
  const id = useId();
  // The list is the browser's own; filled after hydration so the server's render matches.
  useEffect(() => setList(zones()), []);
  const live = zone.trim() === "" ? ["Enter a time zone, such as Europe/London or UTC."] : isValidTimeZone(zone) ? [] : [`"${zone}" is not a known time zone; pick an IANA name from the list.`];
  const errors = live.length > 0 ? live : zone === initial ? (meta.errors ?? []) : [];
  const help = `${id}-help`;
  return (
    <div>
      <label htmlFor={meta.id} className="block text-sm font-medium text-slate-800 dark:text-slate-200">
        Time zone
      </label>
      <input
        id={meta.id}
        name={meta.name}
        list={`${id}-zones`}
        value={zone}
        autoComplete="off"
        spellCheck={false}
        onChange={(e) => {
          setZone(e.target.value);
          onChange(e.target.value);
        }}
        aria-invalid={errors.length > 0 || undefined}
        aria-describedby={[help, describedBy(meta, undefined, errors.length > 0)].filter(Boolean).join(" ")}
        className={`mt-1 ${CONTROL}`}
      />
      <datalist id={`${id}-zones`}>
        {list.map((z) => (
          <option key={z} value={z} />
        ))}
      </datalist>
      <p id={help} className={`mt-1 text-sm ${MUTED}`}>
        Type to search the IANA zones (e.g. America/New_York). Times in the expression are local times in this zone.
      </p>
      <ErrorList id={meta.errorId} errors={errors} />
    </div>
  );
}
