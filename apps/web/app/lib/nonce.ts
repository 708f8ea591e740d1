import { createContext, useContext } from "react";

// The per-response CSP nonce, handed from entry.server to the <Scripts> of the root layout.
export const NonceContext = createContext<string>("");

/** The CSP nonce of the response being rendered (empty in the browser). */
export const useNonce = () => useContext(NonceContext);
