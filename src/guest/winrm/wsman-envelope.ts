/**
 * The SOAP envelopes of the WinRS shell protocol (MS-WSMV 3.1.4.1 Create, 3.1.4.11 Command,
 * 3.1.4.14 Receive, 3.1.4.12 Signal, 3.1.4.2 Delete), built as strings with every value escaped.
 */
import { randomUUID } from "node:crypto";
import { escapeXml } from "./xml.ts";

export const NS = {
  soap: "http://www.w3.org/2003/05/soap-envelope",
  addressing: "http://schemas.xmlsoap.org/ws/2004/08/addressing",
  transfer: "http://schemas.xmlsoap.org/ws/2004/09/transfer",
  wsman: "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
  msWsman: "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd",
  shell: "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
} as const;

export const CMD_SHELL_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd";
export const ANONYMOUS_ADDRESS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous";

export const ACTION = {
  create: "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create",
  delete: "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete",
  command: "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command",
  receive: "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Receive",
  signal: "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Signal",
} as const;

export const SIGNAL_TERMINATE = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/terminate";
export const COMMAND_STATE_DONE = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done";
/** The WSManFault code of a Receive that saw no output within its OperationTimeout: ask again. */
export const OPERATION_TIMEOUT_FAULT = "2150858793";
/** Windows' default MaxEnvelopeSizekb is 500; 150 KiB is what every client asks for. */
export const MAX_ENVELOPE_SIZE = 153600;
/** UTF-8 output from the shell's processes. */
export const UTF8_CODEPAGE = 65001;

export interface Envelope {
  readonly messageId: string;
  readonly action: string;
  readonly xml: string;
}

export interface EnvelopeContext {
  /** The endpoint URL, e.g. http://10.0.0.5:5985/wsman (wsa:To). */
  readonly to: string;
  /** How long the server may hold a request (Receive waits this long for output). */
  readonly operationTimeoutS: number;
}

interface Part {
  readonly action: string;
  readonly shellId?: string;
  readonly options?: Readonly<Record<string, string>>;
  readonly body: string;
}

function envelope(context: EnvelopeContext, part: Part): Envelope {
  const messageId = `uuid:${randomUUID().toUpperCase()}`;
  const selector = part.shellId ? `<w:SelectorSet><w:Selector Name="ShellId">${escapeXml(part.shellId)}</w:Selector></w:SelectorSet>` : "";
  const options = part.options
    ? `<w:OptionSet>${Object.entries(part.options).map(([name, value]) => `<w:Option Name="${escapeXml(name)}">${escapeXml(value)}</w:Option>`).join("")}</w:OptionSet>`
    : "";
  const xml =
    `<?xml version="1.0" encoding="utf-8"?>` +
    `<s:Envelope xmlns:s="${NS.soap}" xmlns:a="${NS.addressing}" xmlns:w="${NS.wsman}" xmlns:p="${NS.msWsman}" xmlns:rsp="${NS.shell}">` +
    `<s:Header>` +
    `<a:To>${escapeXml(context.to)}</a:To>` +
    `<a:ReplyTo><a:Address s:mustUnderstand="true">${ANONYMOUS_ADDRESS}</a:Address></a:ReplyTo>` +
    `<w:MaxEnvelopeSize s:mustUnderstand="true">${MAX_ENVELOPE_SIZE}</w:MaxEnvelopeSize>` +
    `<a:MessageID>${messageId}</a:MessageID>` +
    `<w:Locale xml:lang="en-US" s:mustUnderstand="false"/>` +
    `<p:DataLocale xml:lang="en-US" s:mustUnderstand="false"/>` +
    `<w:OperationTimeout>PT${context.operationTimeoutS}S</w:OperationTimeout>` +
    `<w:ResourceURI s:mustUnderstand="true">${CMD_SHELL_URI}</w:ResourceURI>` +
    `<a:Action s:mustUnderstand="true">${part.action}</a:Action>` +
    selector +
    options +
    `</s:Header>` +
    `<s:Body>${part.body}</s:Body>` +
    `</s:Envelope>`;
  return { messageId, action: part.action, xml };
}

export function createShellEnvelope(context: EnvelopeContext): Envelope {
  return envelope(context, {
    action: ACTION.create,
    options: { WINRS_NOPROFILE: "TRUE", WINRS_CODEPAGE: String(UTF8_CODEPAGE) },
    body: `<rsp:Shell><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>`,
  });
}

/** Runs `commandLine` through the shell's cmd.exe, as typed at a prompt. */
export function commandEnvelope(context: EnvelopeContext, shellId: string, commandLine: string): Envelope {
  return envelope(context, {
    action: ACTION.command,
    shellId,
    options: { WINRS_CONSOLEMODE_STDIN: "TRUE", WINRS_SKIP_CMD_SHELL: "FALSE" },
    body: `<rsp:CommandLine><rsp:Command>${escapeXml(commandLine)}</rsp:Command></rsp:CommandLine>`,
  });
}

export function receiveEnvelope(context: EnvelopeContext, shellId: string, commandId: string): Envelope {
  return envelope(context, {
    action: ACTION.receive,
    shellId,
    body: `<rsp:Receive><rsp:DesiredStream CommandId="${escapeXml(commandId)}">stdout stderr</rsp:DesiredStream></rsp:Receive>`,
  });
}

export function signalEnvelope(context: EnvelopeContext, shellId: string, commandId: string): Envelope {
  return envelope(context, {
    action: ACTION.signal,
    shellId,
    body: `<rsp:Signal CommandId="${escapeXml(commandId)}"><rsp:Code>${SIGNAL_TERMINATE}</rsp:Code></rsp:Signal>`,
  });
}

export function deleteShellEnvelope(context: EnvelopeContext, shellId: string): Envelope {
  return envelope(context, { action: ACTION.delete, shellId, body: "" });
}
