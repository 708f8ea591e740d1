// Typed errors. Every message says what to check on the Windows side; none carries a secret.

/** Base class of every error the WinRM client throws. */
export class WinRMError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "WinRMError";
  }
}

/** The server refused the credentials (HTTP 401). */
export class WinRMAuthError extends WinRMError {
  readonly status = 401;
  constructor(opts: { host: string; username: string; auth: "basic" | "ntlm"; detail?: string }) {
    const method = opts.auth === "ntlm" ? "NTLM (Negotiate)" : "Basic";
    super(
      `WinRM authentication failed for user "${opts.username}" at ${opts.host} using ${method}` +
        (opts.detail ? ` (${opts.detail})` : "") +
        `. Check the user name, password and domain; that the listener allows ${method} ` +
        `(winrm get winrm/config/service/auth: ${opts.auth === "ntlm" ? "Negotiate" : "Basic"} = true); that the user is in ` +
        `Administrators or Remote Management Users; and for a local (non-domain) administrator, that ` +
        `LocalAccountTokenFilterPolicy = 1 under HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System.`,
    );
    this.name = "WinRMAuthError";
  }
}

/** The connection could not be made or was lost: refused, DNS, TLS, timeouts. */
export class WinRMConnectionError extends WinRMError {
  readonly code: string | undefined;
  constructor(message: string, opts: { code?: string; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = "WinRMConnectionError";
    this.code = opts.code;
  }
}

/** A command or request exceeded its deadline (`timeoutSec` or the HTTP read timeout). */
export class WinRMTimeoutError extends WinRMConnectionError {
  constructor(message: string) {
    super(message, { code: "ETIMEDOUT" });
    this.name = "WinRMTimeoutError";
  }
}

/** The server answered with an HTTP status that carried no WS-Management fault. */
export class WinRMHttpError extends WinRMError {
  readonly status: number;
  constructor(status: number, host: string, detail: string) {
    super(
      `the WinRM server at ${host} answered HTTP ${status}${detail ? `: ${detail}` : ""}. ` +
        (status === 400 || status === 415
          ? "The listener may require message encryption or HTTPS (AllowUnencrypted=false): use auth ntlm or transport https."
          : status === 404
            ? "No WinRM listener at this path: check `winrm enumerate winrm/config/listener` and that the URL ends in /wsman."
            : status === 413
              ? 'The request exceeds the listener\'s MaxEnvelopeSizekb: set maxEnvelopeSizeKb to at most the listener\'s value, or raise it on the server (winrm set winrm/config @{MaxEnvelopeSizekb="512"}).'
              : "Check the WinRM service's event log (Microsoft-Windows-WinRM/Operational)."),
    );
    this.name = "WinRMHttpError";
    this.status = status;
  }
}

function adviceFor(code: number | undefined, subcode: string | undefined): string {
  switch (code) {
    case 2150858843:
      return "The shell or command no longer exists on the server (closed, or ended by the shell's IdleTimeout): open a new shell; openShell() does this automatically.";
    case 2150859174:
      return 'The user has too many concurrent shells or operations: run fewer commands at once, close idle shells, or raise the quotas (winrm set winrm/config/winrs @{MaxShellsPerUser="50"}; winrm set winrm/config/service @{MaxConcurrentOperationsPerUser="1500"}).';
    case 2147942606:
      return "The command line exceeds cmd.exe's 8191-character limit: shorten the script, or pass data through stdin or copyFile().";
    case 2150858793:
      return "The operation did not finish within OperationTimeout: raise operationTimeoutSec or the command's timeoutSec.";
    case 5:
      return "Access denied: the user must be in Administrators or Remote Management Users; for a local administrator set LocalAccountTokenFilterPolicy = 1.";
    case 2150858770:
    case 2150858771:
      return "The server does not support this resource or action: check the WinRM version (winrm id) and that the Windows Remote Shell plugin is enabled.";
    default:
      if (subcode === "AccessDenied") return "Access denied: check the user's group membership and LocalAccountTokenFilterPolicy.";
      return code !== undefined ? `Run \`winrm helpmsg ${code}\` on the Windows host for details.` : "Check the WinRM service's event log.";
  }
}

/** The server answered with a WS-Management fault (WSManFault code, machine and message). */
export class WinRMFaultError extends WinRMError {
  /** WSManFault/@Code, e.g. 2150858843. */
  readonly code: number | undefined;
  /** WS-Management subcode local name, e.g. "InvalidSelectors". */
  readonly subcode: string | undefined;
  readonly machine: string;
  /** The server's own message text. */
  readonly wsmanMessage: string;
  constructor(opts: { code: number | undefined; subcode: string | undefined; machine: string; wsmanMessage: string }) {
    super(
      `WinRM fault${opts.code !== undefined ? ` ${opts.code}` : ""}${opts.subcode ? ` (${opts.subcode})` : ""} from ${opts.machine}: ` +
        `${opts.wsmanMessage} ${adviceFor(opts.code, opts.subcode)}`,
    );
    this.name = "WinRMFaultError";
    this.code = opts.code;
    this.subcode = opts.subcode;
    this.machine = opts.machine;
    this.wsmanMessage = opts.wsmanMessage;
  }
}

/** copyFile() could not read the source, the remote script failed, or the remote checksum did not match. */
export class WinRMCopyError extends WinRMError {
  /** The remote copy script's exit code, when it ran to the end. */
  readonly exitCode: number | undefined;
  constructor(message: string, opts: { exitCode?: number; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = "WinRMCopyError";
    this.exitCode = opts.exitCode;
  }
}

/** Translates a Node socket/TLS error into a WinRMConnectionError with advice. */
export function connectionError(error: unknown, host: string, transport: "http" | "https"): WinRMConnectionError {
  if (error instanceof WinRMConnectionError) return error;
  const err = error as NodeJS.ErrnoException;
  const code = err?.code;
  const port = transport === "https" ? "5986" : "5985";
  let message: string;
  switch (code) {
    case "ECONNREFUSED":
      message = `connection to ${host} was refused. Is the WinRM service running with a ${transport.toUpperCase()} listener on this port (run \`winrm quickconfig\`${transport === "https" ? " and create an HTTPS listener" : ""}; check \`winrm enumerate winrm/config/listener\`), and does the firewall allow TCP ${port}?`;
      break;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      message = `the host name in ${host} could not be resolved (${code}). Check the name and DNS, or use the IP address.`;
      break;
    case "ETIMEDOUT":
    case "ECONNECT_TIMEOUT":
      message = `timed out connecting to ${host}. Check that the host is up, that a firewall does not drop TCP ${port}, and raise connectTimeoutSec if the network is slow.`;
      break;
    case "ECONNRESET":
    case "EPIPE":
      message = `the connection to ${host} was reset. The listener may reject this transport (an HTTP request to an HTTPS port or the reverse), or a proxy dropped the connection.`;
      break;
    case "ERR_TLS_CERT_ALTNAME_INVALID":
      message = `the TLS certificate of ${host} does not name this host (${err.message}). Connect with the name in the certificate's subject alternative names, or issue a certificate for this name.`;
      break;
    default:
      if (code && /CERT|SELF_SIGNED|UNABLE_TO|TLS|SSL/i.test(code)) {
        message = `the TLS certificate of ${host} could not be verified (${code}). Pass the issuing CA with the \`ca\` option, or — for testing only — rejectUnauthorized: false.`;
      } else {
        message = `connection to ${host} failed${code ? ` (${code})` : ""}: ${err?.message ?? String(error)}.`;
      }
  }
  return new WinRMConnectionError(message, { code, cause: error });
}
