// Response envelopes shaped like those of a Windows Server 2019/2022 WinRM service (MS-WSMV 3.1.4,
// the Windows Remote Shell operations). All protocol text of the test server lives here.
import { randomUUID } from "node:crypto";
import { escapeXml } from "./xml.ts";

/** Namespace URIs used by WinRM envelopes. */
export const NS = Object.freeze({
  soap: "http://www.w3.org/2003/05/soap-envelope",
  addressing: "http://schemas.xmlsoap.org/ws/2004/08/addressing",
  wsman: "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
  msWsman: "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd",
  shell: "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
  transfer: "http://schemas.xmlsoap.org/ws/2004/09/transfer",
  identity: "http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd",
  wsmanFault: "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault",
});

/** WS-Addressing actions of the operations the server answers. */
export const ACTION = Object.freeze({
  create: "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create",
  delete: "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete",
  command: "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command",
  send: "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send",
  receive: "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Receive",
  signal: "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Signal",
  fault: "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault",
});

/** The only resource the server implements: the Windows Remote Shell (cmd). */
export const CMD_RESOURCE_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd";

/** Signal codes of MS-WSMV 2.2.4.38. */
export const SIGNAL = Object.freeze({
  terminate: "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/terminate",
  ctrlC: "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/ctrl_c",
  ctrlBreak: "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/ctrl_break",
});

const COMMAND_STATE = Object.freeze({
  done: "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done",
  running: "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Running",
});

const ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous";

function envelope(action: string, relatesTo: string | undefined, body: string): string {
  // Windows declares every namespace it may use on the Envelope and prefixes with s/a/w/rsp/p/x.
  return (
    `<s:Envelope xml:lang="en-US" xmlns:s="${NS.soap}" xmlns:a="${NS.addressing}" xmlns:x="${NS.transfer}" ` +
    `xmlns:w="${NS.wsman}" xmlns:rsp="${NS.shell}" xmlns:p="${NS.msWsman}">` +
    `<s:Header><a:Action>${escapeXml(action)}</a:Action><a:MessageID>uuid:${randomUUID().toUpperCase()}</a:MessageID>` +
    `<a:To>${ANONYMOUS}</a:To>` +
    (relatesTo ? `<a:RelatesTo>${escapeXml(relatesTo)}</a:RelatesTo>` : "") +
    `</s:Header><s:Body>${body}</s:Body></s:Envelope>`
  );
}

/** wsmid:IdentifyResponse (DSP0226 11, as Windows answers it). */
export function identifyResponse(productVersion: string): string {
  return (
    `<s:Envelope xmlns:s="${NS.soap}" xml:lang="en-US"><s:Header/><s:Body>` +
    `<wsmid:IdentifyResponse xmlns:wsmid="${NS.identity}">` +
    `<wsmid:ProtocolVersion>${NS.wsman}</wsmid:ProtocolVersion>` +
    `<wsmid:ProductVendor>Microsoft Corporation</wsmid:ProductVendor>` +
    `<wsmid:ProductVersion>${escapeXml(productVersion)}</wsmid:ProductVersion>` +
    `<wsmid:SecurityProfiles><wsmid:SecurityProfileName>http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/http/spnego-kerberos</wsmid:SecurityProfileName></wsmid:SecurityProfiles>` +
    `</wsmid:IdentifyResponse></s:Body></s:Envelope>`
  );
}

/** The Create response: x:ResourceCreated with the ShellId selector, then the rsp:Shell description. */
export function createResponse(opts: { relatesTo: string; address: string; shellId: string; owner: string; clientIp: string; idleTimeoutSec: number }): string {
  const body =
    `<x:ResourceCreated><a:Address>${escapeXml(opts.address)}</a:Address><a:ReferenceParameters>` +
    `<w:ResourceURI>${CMD_RESOURCE_URI}</w:ResourceURI><w:SelectorSet><w:Selector Name="ShellId">${opts.shellId}</w:Selector></w:SelectorSet>` +
    `</a:ReferenceParameters></x:ResourceCreated>` +
    `<rsp:Shell xmlns:rsp="${NS.shell}"><rsp:ShellId>${opts.shellId}</rsp:ShellId><rsp:ResourceUri>${CMD_RESOURCE_URI}</rsp:ResourceUri>` +
    `<rsp:Owner>${escapeXml(opts.owner)}</rsp:Owner><rsp:ClientIP>${escapeXml(opts.clientIp)}</rsp:ClientIP>` +
    `<rsp:IdleTimeOut>PT${opts.idleTimeoutSec.toFixed(3)}S</rsp:IdleTimeOut><rsp:InputStreams>stdin</rsp:InputStreams>` +
    `<rsp:OutputStreams>stdout stderr</rsp:OutputStreams><rsp:ShellRunTime>P0DT0H0M0S</rsp:ShellRunTime>` +
    `<rsp:ShellInactivity>P0DT0H0M0S</rsp:ShellInactivity></rsp:Shell>`;
  return envelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/CreateResponse", opts.relatesTo, body);
}

/** The Command response carrying the new CommandId. */
export function commandResponse(relatesTo: string, commandId: string): string {
  return envelope(`${ACTION.command}Response`, relatesTo, `<rsp:CommandResponse><rsp:CommandId>${commandId}</rsp:CommandId></rsp:CommandResponse>`);
}

/** The (empty) Send response. */
export function sendResponse(relatesTo: string): string {
  return envelope(`${ACTION.send}Response`, relatesTo, `<rsp:SendResponse/>`);
}

/** The (empty) Signal response. */
export function signalResponse(relatesTo: string): string {
  return envelope(`${ACTION.signal}Response`, relatesTo, `<rsp:SignalResponse/>`);
}

/** The Delete response: an empty body. */
export function deleteResponse(relatesTo: string): string {
  return envelope(`${ACTION.delete}Response`, relatesTo, "");
}

/** One output chunk of a Receive response. */
export interface StreamChunk {
  name: "stdout" | "stderr";
  data: Buffer;
  end?: boolean;
}

/** The Receive response: Stream elements, then CommandState (Done with ExitCode on the last one). */
export function receiveResponse(opts: { relatesTo: string; commandId: string; chunks: StreamChunk[]; exitCode?: number }): string {
  let body = "<rsp:ReceiveResponse>";
  for (const chunk of opts.chunks) {
    body += `<rsp:Stream Name="${chunk.name}" CommandId="${opts.commandId}"${chunk.end ? ' End="true"' : ""}>${chunk.data.toString("base64")}</rsp:Stream>`;
  }
  if (opts.exitCode === undefined) {
    body += `<rsp:CommandState CommandId="${opts.commandId}" State="${COMMAND_STATE.running}"/>`;
  } else {
    body += `<rsp:CommandState CommandId="${opts.commandId}" State="${COMMAND_STATE.done}"><rsp:ExitCode>${opts.exitCode}</rsp:ExitCode></rsp:CommandState>`;
  }
  body += "</rsp:ReceiveResponse>";
  return envelope(`${ACTION.receive}Response`, opts.relatesTo, body);
}

/** A WS-Management fault as Windows reports it: SOAP code, WS-Man subcode and the WSManFault detail. */
export interface FaultSpec {
  /** SOAP fault code: s:Sender (client's fault) or s:Receiver. */
  code: "Sender" | "Receiver";
  /** WS-Management subcode local name, e.g. "TimedOut", "InvalidSelectors". */
  subcode: string;
  /** The Windows error number in WSManFault/@Code. */
  wsmanCode: number;
  message: string;
}

/** Serialises a fault envelope (sent with HTTP 500). */
export function faultResponse(fault: FaultSpec, relatesTo: string | undefined, machine: string): string {
  const message = escapeXml(fault.message);
  const body =
    `<s:Fault><s:Code><s:Value>s:${fault.code}</s:Value><s:Subcode><s:Value>w:${fault.subcode}</s:Value></s:Subcode></s:Code>` +
    `<s:Reason><s:Text xml:lang="en-US">${message} </s:Text></s:Reason>` +
    `<s:Detail><f:WSManFault xmlns:f="${NS.wsmanFault}" Code="${fault.wsmanCode}" Machine="${escapeXml(machine)}">` +
    `<f:Message>${message} </f:Message></f:WSManFault></s:Detail></s:Fault>`;
  return envelope(ACTION.fault, relatesTo, body);
}

/** The faults the server produces, with the codes and texts of a real Windows listener. */
export const FAULTS = Object.freeze({
  timedOut: (): FaultSpec => ({
    code: "Receiver",
    subcode: "TimedOut",
    wsmanCode: 2150858793,
    message: "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.",
  }),
  unknownShell: (shellId: string): FaultSpec => ({
    code: "Sender",
    subcode: "InvalidSelectors",
    wsmanCode: 2150858843,
    message: `The request for the Windows Remote Shell with ShellId ${shellId} failed because the shell was not found on the server. Possible causes are: the specified ShellId is incorrect or the shell no longer exists on the server. Provide the correct ShellId or create a new shell and retry the operation.`,
  }),
  unknownCommand: (commandId: string): FaultSpec => ({
    code: "Sender",
    subcode: "InvalidSelectors",
    wsmanCode: 2150858843,
    message: `The request for the Windows Remote Shell command with CommandId ${commandId} failed because the command was not found on the server. Possible causes are: the specified CommandId is incorrect or the command has already completed. Provide the correct CommandId and retry the operation.`,
  }),
  accessDenied: (): FaultSpec => ({ code: "Sender", subcode: "AccessDenied", wsmanCode: 5, message: "Access is denied." }),
  tooManyShells: (max: number): FaultSpec => ({
    code: "Sender",
    subcode: "QuotaLimit",
    wsmanCode: 2150859174,
    message: `The WS-Management service cannot process the request. This user is allowed a maximum number of ${max} concurrent shells, which has been exceeded. Close existing shells or raise the quota for this user.`,
  }),
  tooManyOperations: (max: number): FaultSpec => ({
    code: "Sender",
    subcode: "QuotaLimit",
    wsmanCode: 2150859174,
    message: `The WS-Management service cannot process the request. This user is allowed a maximum number of ${max} concurrent operations, which has been exceeded. Close existing operations for this user, or raise the quota for this user.`,
  }),
  // MS-WSMV 3.1.4.1.7: a MaxEnvelopeSize under 8192 octets MUST get the wsman:EncodingLimit fault;
  // the code is winerror.h's ERROR_WSMAN_ENCODING_LIMIT, the one paired with that subcode.
  maxEnvelopeTooSmall: (requested: number): FaultSpec => ({
    code: "Sender",
    subcode: "EncodingLimit",
    wsmanCode: 2150858805,
    message: `The WS-Management service cannot process the request because the encoding of the request exceeds an internal encoding limit. The requested MaxEnvelopeSize (${requested}) is smaller than 8192 octets.`,
  }),
  unsupportedCodePage: (codePage: string): FaultSpec => ({
    code: "Sender",
    subcode: "InvalidOptions",
    wsmanCode: 2150858809,
    message: `The WS-Management service cannot process the request because one or more options are not valid. WINRS_CODEPAGE=${codePage}: the test server supports 437 and 65001.`,
  }),
  commandLineTooLong: (): FaultSpec => ({
    code: "Sender",
    subcode: "InvalidParameter",
    wsmanCode: 2147942606,
    message: "The command line is too long.",
  }),
  unsupportedAction: (action: string): FaultSpec => ({
    code: "Sender",
    subcode: "ActionNotSupported",
    wsmanCode: 2150858771,
    message: `The WS-Management service cannot process the request because the action ${action} is not supported by the test server.`,
  }),
  unsupportedResource: (uri: string): FaultSpec => ({
    code: "Sender",
    subcode: "DestinationUnreachable",
    wsmanCode: 2150858770,
    message: `The WS-Management service cannot process the request because the resource URI ${uri} is not supported by the test server (only ${CMD_RESOURCE_URI}).`,
  }),
  badRequest: (detail: string): FaultSpec => ({
    code: "Sender",
    subcode: "SchemaValidationError",
    wsmanCode: 2150858817,
    message: `The WS-Management service cannot process the request because the XML is invalid: ${detail}`,
  }),
});
