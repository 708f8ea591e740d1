// A target row's WinRM settings, in the one shape the API's view and core's Target both take.
import type { WinRMAuth, WinRMTransport } from "../generated/enums.ts";

/** The WinRM columns of a target row. */
export interface TargetWinRMColumns {
  winrmTransport: WinRMTransport;
  winrmAuth: WinRMAuth;
  winrmAllowUnencrypted: boolean;
  winrmCaCertificate: string | null;
  winrmRejectUnauthorized: boolean;
}

/** A target row's WinRM settings as `{ transport, auth, allowUnencrypted, caCertificate, rejectUnauthorized }`. */
export function targetWinRMSettings(row: TargetWinRMColumns) {
  return {
    transport: row.winrmTransport,
    auth: row.winrmAuth,
    allowUnencrypted: row.winrmAllowUnencrypted,
    caCertificate: row.winrmCaCertificate,
    rejectUnauthorized: row.winrmRejectUnauthorized,
  };
}
