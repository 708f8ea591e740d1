// A toast that survives a redirect: the action's answer sets a short-lived cookie, and the next
// page's shell shows the message once and clears it.
import { randomUUID } from "node:crypto";
import { redirect } from "@remix-run/node";
import type { ToastMessage } from "../components/ui/toast.tsx";
import { env } from "../env.server.ts";
import { cookie, readCookie } from "./auth.server.ts";

const FLASH_COOKIE = "oc_flash";
const FLASH_MAX_AGE_SEC = 60;
const MAX_MESSAGE = 300;

/** A toast read from the flash cookie; `id` tells two equal messages apart. */
export interface FlashToast extends ToastMessage {
  id: string;
}

// The message is no secret (never put one in a toast), so the cookie is Secure only when the public address says HTTPS.
const secureFlash = () => env().OPSCONDUCTOR_PUBLIC_URL?.startsWith("https:") ?? false;

/**
 * A redirect to `to` that shows `message` as a toast on the page it leads to; `headers` (a page
 * context's refreshed session cookies) go along. Never put a secret in `message`.
 */
export function redirectWithToast(to: string, message: string, headers?: Headers, kind: ToastMessage["kind"] = "success"): Response {
  const answer = redirect(to, { headers: new Headers(headers) });
  const value = Buffer.from(JSON.stringify({ kind, message: message.slice(0, MAX_MESSAGE) })).toString("base64url");
  answer.headers.append("Set-Cookie", cookie(FLASH_COOKIE, value, FLASH_MAX_AGE_SEC, { httpOnly: true, secure: secureFlash() }));
  return answer;
}

/**
 * The toast waiting in `request`'s flash cookie, if any, and appends the header that clears it to
 * `headers`. Only text is shown, so a forged cookie can at most put words in the viewer's own toast.
 */
export function takeFlash(request: Request, headers: Headers): FlashToast | null {
  const raw = readCookie(request, FLASH_COOKIE);
  if (raw === null) return null;
  headers.append("Set-Cookie", cookie(FLASH_COOKIE, "", 0, { httpOnly: true, secure: secureFlash() }));
  try {
    const value: unknown = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
    if (typeof value !== "object" || value === null) return null;
    const { kind, message } = value as { kind?: unknown; message?: unknown };
    if ((kind !== "success" && kind !== "error") || typeof message !== "string" || message === "") return null;
    return { id: randomUUID(), kind, message: message.slice(0, MAX_MESSAGE) };
  } catch {
    return null;
  }
}
