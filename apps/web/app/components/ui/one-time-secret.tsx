import { useId, useRef, useState, type ReactNode } from "react";
import { Button } from "./button.tsx";
import { CARD, CONTROL, MUTED } from "./styles.ts";

/** What a one-time secret card says; `noun` names the secret in the copy messages ("the token"). */
export interface OneTimeSecretProps {
  title: ReactNode;
  help: ReactNode;
  label: string;
  copyLabel: string;
  noun: string;
  value: string;
  testId?: string;
}

/**
 * A secret the server made and keeps only as a hash (a generated password, an API token), shown
 * this once: a read-only field to select it from and a button that copies it.
 */
export function OneTimeSecret({ title, help, label, copyLabel, noun, value, testId }: OneTimeSecretProps) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<"yes" | "no" | null>(null);
  const copy = async () => {
    try {
      // The clipboard API needs a secure context (HTTPS or localhost); elsewhere a selection still copies.
      if (navigator.clipboard) await navigator.clipboard.writeText(value);
      else {
        input.current?.select();
        if (!document.execCommand("copy")) throw new Error("copy refused");
      }
      setCopied("yes");
    } catch {
      input.current?.select();
      setCopied("no");
    }
  };
  return (
    <section aria-labelledby={`${id}-title`} className={`${CARD} border-amber-300 dark:border-amber-700`}>
      <h2 id={`${id}-title`} className="text-lg font-semibold">
        {title}
      </h2>
      <p className={`mt-1 ${MUTED}`} id={`${id}-help`}>
        {help}
      </p>
      <label htmlFor={`${id}-value`} className="mt-4 block text-sm font-medium text-slate-800 dark:text-slate-200">
        {label}
      </label>
      <div className="mt-1 flex flex-wrap gap-2">
        <input
          ref={input}
          id={`${id}-value`}
          readOnly
          value={value}
          aria-describedby={`${id}-help`}
          onFocus={(event) => event.currentTarget.select()}
          className={`${CONTROL} flex-1 basis-56 font-mono`}
          autoComplete="off"
          spellCheck={false}
          data-testid={testId}
        />
        <Button variant="secondary" onClick={() => void copy()}>
          {copyLabel}
        </Button>
      </div>
      <p role="status" className={`mt-2 text-sm ${MUTED}`}>
        {copied === "yes" ? "Copied to the clipboard." : copied === "no" ? `This browser would not copy it: ${noun} is selected, copy it with Ctrl+C.` : ""}
      </p>
    </section>
  );
}
