/**
 * The protocol facts the WinRM contract host checks requests against, copied here from the
 * specifications (never imported from src/, so a wrong constant in the product fails the contract
 * tests instead of agreeing with itself). Each fact names its source:
 *
 * [MS-WSMV] Web Services Management Protocol Extensions for Windows Vista,
 *   https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-wsmv/
 */

/** Namespaces, as bound in the spec's own example messages ([MS-WSMV] 4.7.1 Create Shell, https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-wsmv/7f4a1f31-47d8-4599-a23b-c3834ffae21f). */
export const WSMV_NS = {
  /** SOAP 1.2 envelope. */
  soap: "http://www.w3.org/2003/05/soap-envelope",
  /** WS-Addressing (August 2004), the wsa: prefix. */
  addressing: "http://schemas.xmlsoap.org/ws/2004/08/addressing",
  /** WS-Management (DMTF DSP0226), the wsman: prefix. */
  wsman: "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
  /** The Windows remote shell, the rsp: prefix. */
  shell: "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
} as const;

/** wsa:ReplyTo/wsa:Address of a request answered on the same connection ([MS-WSMV] 4.7.1). */
export const ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous";

/** The Text-based Command Shell's resource URI ([MS-WSMV] 3.1.4.11 Command, https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-wsmv/c793e333-c409-43c6-a2eb-6ae2489c7ef4). */
export const CMD_RESOURCE_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd";

/** Request and response Action URIs of each shell operation. */
export const ACTIONS = {
  /** [MS-WSMV] 3.1.4.5 Create (WS-Transfer), https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-wsmv/1f661e3f-c2cc-456f-93b4-187876d52806; body rsp:Shell. */
  create: { request: "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create", response: "http://schemas.xmlsoap.org/ws/2004/09/transfer/CreateResponse" },
  /**
   * Delete (WS-Transfer), listed in the [MS-WSMV] 3.1.4 operations table,
   * https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-wsmv/568385a0-0676-493f-bcd7-380b6e7cb7ee. The URIs are WS-Transfer's
   * (https://www.w3.org/submissions/WS-Transfer/), the namespace of Create's above.
   */
  delete: { request: "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete", response: "http://schemas.xmlsoap.org/ws/2004/09/transfer/DeleteResponse" },
  /** [MS-WSMV] 3.1.4.11 Command, https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-wsmv/c793e333-c409-43c6-a2eb-6ae2489c7ef4; body rsp:CommandLine. */
  command: { request: "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command", response: "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandResponse" },
  /** [MS-WSMV] 3.1.4.14 Receive, https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-wsmv/50cc2c38-e094-4d59-aec2-39e09f314862; body rsp:Receive. */
  receive: { request: "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Receive", response: "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/ReceiveResponse" },
  /** [MS-WSMV] 3.1.4.12 Signal, https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-wsmv/c37e68da-9984-437a-81ae-ef9a3d2e91c9; body rsp:Signal. */
  signal: { request: "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Signal", response: "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/SignalResponse" },
} as const;

/** [MS-WSMV] 2.2.5.6 SignalCodeEnumeration, https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-wsmv/112d9f59-13ae-4a7d-9d68-8d5da269c468: "Terminates the shell or command". */
export const SIGNAL_CODES = {
  terminate: "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/terminate",
  ctrlC: "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/ctrl_c",
  ctrlBreak: "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/ctrl_break",
} as const;

/** [MS-WSMV] 2.2.5.4 CommandStateEnumeration, https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-wsmv/bd5802af-51ad-4f1b-9a5c-7aa499d5eee9. */
export const COMMAND_STATES = {
  done: "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done",
  pending: "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Pending",
  running: "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Running",
} as const;

/**
 * [MS-WSMV] 3.1.4.14 Receive: "If no output is available before the wsman:OperationTimeout expires,
 * the server MUST return a WSManFault with the Code attribute equal to 2150858793"
 * (ERROR_WSMAN_OPERATION_TIMEDOUT); the client SHOULD issue another Receive.
 */
export const OPERATION_TIMED_OUT_CODE = "2150858793";

/**
 * The shell's selector name. [MS-WSMV]'s examples (3.1.4.11, 3.1.4.12, 3.1.4.14) write
 * `Name="ShellID"`, Windows' own replies and common clients write `ShellId`; the spec does not say
 * whether the name is case-sensitive, so the host accepts both spellings and nothing else.
 */
export const SHELL_SELECTOR = /^ShellI[dD]$/;

/** The SOAP 1.2 media type (RFC 3902) with the UTF-8 charset WinRM requires of its bodies. */
export const CONTENT_TYPE = /^application\/soap\+xml;\s*charset=utf-8$/i;

/** wsa:MessageID as WinRM writes it: `uuid:` and a UUID ([MS-WSMV] 4.7.1). */
export const MESSAGE_ID = /^uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** wsman:OperationTimeout is an xs:duration in seconds, e.g. PT60.000S ([MS-WSMV] 4.7.1, 3.1.4.1.6). */
export const OPERATION_TIMEOUT = /^PT\d+(\.\d+)?S$/;

/** The longest command line cmd.exe accepts (https://learn.microsoft.com/en-us/troubleshoot/windows-client/shell-experience/command-line-string-limitation). */
export const CMD_LINE_LIMIT = 8191;
