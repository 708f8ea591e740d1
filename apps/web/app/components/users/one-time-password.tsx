import { useId, useRef, useState } from "react";
import { Button } from "../ui/button.tsx";
import { CARD, CONTROL, MUTED } from "../ui/styles.ts";

/**
 * A password the server generated, shown this once (it is stored only as a hash): a read-only
 * field to select it from and a button that copies it.
 */
export function OneTimePassword({ username, password, title }: { username: string; password: string; title: string }) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<"yes" | "no" | null>(null);
  const copy = async () => {
    try {
      // The clipboard API needs a secure context (HTTPS or localhost); elsewhere the old way still copies a selection.
      if (navigator.clipboard) await navigator.clipboard.writeText(password);
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
        Copy it now and give it to {username} over a safe channel. It is shown only this once: OpsConductor keeps a hash of it, not the password.
      </p>
      <label htmlFor={`${id}-value`} className="mt-4 block text-sm font-medium text-slate-800 dark:text-slate-200">
        Generated password
      </label>
      <div className="mt-1 flex flex-wrap gap-2">
        <input
          ref={input}
          id={`${id}-value`}
          readOnly
          value={password}
          aria-describedby={`${id}-help`}
          onFocus={(event) => event.currentTarget.select()}
          className={`${CONTROL} flex-1 basis-56 font-mono`}
          autoComplete="off"
          spellCheck={false}
        />
        <Button variant="secondary" onClick={() => void copy()}>
          Copy password
        </Button>
      </div>
      <p role="status" className={`mt-2 text-sm ${MUTED}`}>
        {copied === "yes" ? "Copied to the clipboard." : copied === "no" ? "This browser would not copy it: the password is selected, copy it with Ctrl+C." : ""}
      </p>
    </section>
  );
}
