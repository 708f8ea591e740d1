// NTLM (MS-NLMP) primitives shared by the WinRM client and the in-process test server.
export { md4 } from "./md4.ts";
export { RC4 } from "./rc4.ts";
export { NTLM_FLAGS } from "./flags.ts";
export { NtlmSession, signKey, sealKey } from "./session.ts";
export {
  AV_ID,
  DEFAULT_CLIENT_FLAGS,
  ntowfv2,
  computeNtlmV2Response,
  createNegotiateMessage,
  parseNegotiateMessage,
  createChallengeMessage,
  parseChallengeMessage,
  createAuthenticateMessage,
  parseAuthenticateMessage,
  acceptAuthenticateMessage,
  parseAvPairs,
  fileTimeNow,
} from "./messages.ts";
export type { ParsedChallenge, ParsedAuthenticate } from "./messages.ts";
export { channelBindingsHash, certificateHashAlgorithm } from "./channel-bindings.ts";
export { encryptWinRMBody, decryptWinRMBody, isEncryptedContentType, ENCRYPTED_CONTENT_TYPE } from "./encryption.ts";
