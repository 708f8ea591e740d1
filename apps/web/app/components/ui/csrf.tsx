import { createContext, useContext } from "react";
import { CSRF_FIELD } from "../../lib/forms.ts";

// The signed-in browser's CSRF token, provided by the app shell to every form inside it.
export const CsrfContext = createContext<string | null>(null);

/** The hidden field every form of a signed-in page carries, echoing this browser's CSRF token. */
export function CsrfInput() {
  return <input type="hidden" name={CSRF_FIELD} value={useContext(CsrfContext) ?? ""} />;
}
