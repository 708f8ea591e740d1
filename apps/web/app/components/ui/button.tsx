import { useNavigation } from "@remix-run/react";
import { forwardRef, type ButtonHTMLAttributes, type ReactNode } from "react";
import { INTENT_FIELD } from "../../lib/forms.ts";

const VARIANTS = {
  primary: "bg-slate-900 text-white hover:bg-slate-700 dark:bg-sky-500 dark:text-slate-950 dark:hover:bg-sky-400",
  secondary: "border border-slate-300 bg-white text-slate-800 hover:bg-slate-100 dark:border-slate-600 dark:bg-slate-900 dark:text-slate-100 dark:hover:bg-slate-800",
  danger: "bg-rose-700 text-white hover:bg-rose-600 dark:bg-rose-500 dark:text-slate-950 dark:hover:bg-rose-400",
} as const;

export type ButtonVariant = keyof typeof VARIANTS;

/** The class string of a button, for links that look like one. */
export function buttonClass(variant: ButtonVariant = "primary", extra = ""): string {
  return `inline-flex items-center justify-center gap-2 rounded-md px-3 py-2 text-sm font-medium focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-500 disabled:cursor-not-allowed disabled:opacity-60 ${VARIANTS[variant]} ${extra}`;
}

interface ButtonProps extends Omit<ButtonHTMLAttributes<HTMLButtonElement>, "children"> {
  variant?: ButtonVariant;
  children: ReactNode;
}

/** A plain button of the kit. */
export const Button = forwardRef<HTMLButtonElement, ButtonProps>(function Button({ variant = "primary", className = "", type = "button", ...rest }, ref) {
  return <button ref={ref} type={type} className={buttonClass(variant, className)} {...rest} />;
});

/** Whether a form of this page is being submitted (the one with `intent`, when given). */
export function useIsSubmitting(intent?: string): boolean {
  const navigation = useNavigation();
  if (navigation.state === "idle" || !navigation.formMethod || navigation.formMethod.toUpperCase() === "GET") return false;
  return intent === undefined || navigation.formData?.get(INTENT_FIELD) === intent;
}

interface SubmitButtonProps extends ButtonProps {
  /** The intent of the form this button submits: it shows progress only for that form. */
  intent?: string;
  /** What the button says while its form is on its way ("Saving…"). */
  pendingLabel: string;
}

/**
 * A form's submit button: while its form is being submitted it says so and is disabled, which also
 * stops Enter in a field from submitting again (implicit submission needs an enabled default button).
 */
export function SubmitButton({ intent, pendingLabel, children, disabled, ...rest }: SubmitButtonProps) {
  const pending = useIsSubmitting(intent);
  return (
    <Button type="submit" disabled={pending || disabled} aria-disabled={pending || disabled ? true : undefined} {...rest}>
      {pending ? (
        <>
          <span aria-hidden="true" className="size-4 animate-spin rounded-full border-2 border-current border-t-transparent" />
          {pendingLabel}
        </>
      ) : (
        children
      )}
    </Button>
  );
}
