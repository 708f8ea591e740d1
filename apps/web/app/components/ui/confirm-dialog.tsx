import { Form } from "@remix-run/react";
import { useEffect, useId, useRef, useState, type KeyboardEvent, type ReactNode } from "react";
import { INTENT_FIELD } from "../../lib/forms.ts";
import { Button, SubmitButton, useIsSubmitting, type ButtonVariant } from "./button.tsx";
import { CsrfInput } from "./csrf.tsx";
import { MUTED } from "./styles.ts";

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/**
 * Keeps Tab and Shift+Tab inside `container` (a modal dialog): from the last control to the first
 * and back. A modal <dialog> already makes the page behind it inert; this keeps Tab from leaving for
 * the browser's own controls.
 */
export function trapTab(event: KeyboardEvent<HTMLElement>, container: HTMLElement | null): void {
  if (event.key !== "Tab" || !container) return;
  const focusable = [...container.querySelectorAll<HTMLElement>(FOCUSABLE)];
  if (focusable.length === 0) return;
  const first = focusable[0]!;
  const last = focusable[focusable.length - 1]!;
  if (event.shiftKey && document.activeElement === first) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && document.activeElement === last) {
    event.preventDefault();
    first.focus();
  }
}

interface ConfirmDialogProps {
  /** The button that opens the dialog. */
  trigger: string;
  triggerVariant?: ButtonVariant;
  title: string;
  /** What will be lost, in plain words. */
  children: ReactNode;
  /** The intent the confirming form posts. */
  intent: string;
  confirmLabel: string;
  pendingLabel: string;
  /** Where the form posts; the current page when left out. */
  action?: string;
  /** Hidden fields the confirming form posts besides the intent (e.g. which row: `{ id }`). */
  fields?: Readonly<Record<string, string>>;
  /** The opening button's accessible name when its text alone is ambiguous (several rows' "Delete"). */
  triggerLabel?: string;
}

/**
 * Asks before a destructive action: a modal native <dialog> that says what will be lost, keeps
 * keyboard focus inside while open and gives it back to the button that opened it.
 */
export function ConfirmDialog({ trigger, triggerVariant = "danger", title, children, intent, confirmLabel, pendingLabel, action, fields, triggerLabel }: ConfirmDialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const opener = useRef<HTMLButtonElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  const [open, setOpen] = useState(false);
  // Unique per dialog, so several on one page (one per row) never share ids.
  const id = useId();
  const titleId = `${id}-title`;
  const bodyId = `${id}-body`;
  const pending = useIsSubmitting(intent);
  const wasPending = useRef(false);

  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (open && !element.open) {
      element.showModal();
      // The safe choice first: Enter right after opening must not destroy anything.
      cancel.current?.focus();
    }
    if (!open && element.open) element.close();
  }, [open]);

  const close = () => {
    setOpen(false);
    opener.current?.focus();
  };

  // Once the confirmed action has been answered and the page is still here (it was refused, or it
  // changed something in place), the dialog closes and the page shows the outcome (a toast).
  useEffect(() => {
    if (wasPending.current && !pending && open) close();
    wasPending.current = pending;
  }, [pending]);


  return (
    <>
      <Button ref={opener} variant={triggerVariant} aria-haspopup="dialog" aria-label={triggerLabel} onClick={() => setOpen(true)}>
        {trigger}
      </Button>
      <dialog
        ref={dialog}
        aria-labelledby={titleId}
        aria-describedby={bodyId}
        onKeyDown={(event) => trapTab(event, dialog.current)}
        onCancel={(event) => {
          event.preventDefault();
          close();
        }}
        className="m-auto w-[min(28rem,calc(100vw-2rem))] rounded-xl border border-slate-200 bg-white p-6 text-slate-900 shadow-xl backdrop:bg-slate-950/60 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100"
      >
        <h2 id={titleId} className="text-lg font-semibold">
          {title}
        </h2>
        <div id={bodyId} className={`mt-2 text-sm ${MUTED}`}>
          {children}
        </div>
        <Form method="post" action={action} className="mt-6 flex flex-wrap justify-end gap-2">
          <CsrfInput />
          <input type="hidden" name={INTENT_FIELD} value={intent} />
          {Object.entries(fields ?? {}).map(([name, value]) => (
            <input key={name} type="hidden" name={name} value={value} />
          ))}
          <Button ref={cancel} variant="secondary" onClick={close}>
            Cancel
          </Button>
          <SubmitButton variant="danger" intent={intent} pendingLabel={pendingLabel}>
            {confirmLabel}
          </SubmitButton>
        </Form>
      </dialog>
    </>
  );
}
