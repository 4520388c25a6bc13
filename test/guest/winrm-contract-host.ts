/**
 * A WinRM listener that behaves like a Windows host for the contract tests: node:http on
 * 127.0.0.1 with a kernel-chosen port, HTTP Basic auth, and every SOAP request checked against
 * MS-WSMV (content type, wsa:To/ReplyTo/MessageID/Action, mustUnderstand headers, ResourceURI,
 * OperationTimeout, the ShellId selector, CommandIds, the bodies of Create, Command, Receive,
 * Signal and Delete, cmd.exe's 8191-character command line). A broken rule is recorded in
 * `violations` and answered with a SOAP fault. The protocol's facts come from ./ms-wsmv.ts (copied
 * from the specification, cited there) and requests are parsed by an independent XML parser
 * (test/support/xml-reader.ts) with namespaces resolved: nothing here comes from src/guest/winrm.
 *
 * "Programs": chunk writes, Get-FileHash, Remove-Item and the boot-time query act on an in-memory
 * file system and boot clock; shutdown.exe /r takes the host down for `rebootDownMs`; every other
 * command goes to the test's `run` handler.
 */
import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { at, childrenNamed, qname, startXmlReader, type XmlNode } from "../support/xml-reader.ts";
import {
  ACTIONS, ANONYMOUS, CMD_LINE_LIMIT, CMD_RESOURCE_URI, COMMAND_STATES, CONTENT_TYPE, MESSAGE_ID, OPERATION_TIMED_OUT_CODE, OPERATION_TIMEOUT, SHELL_SELECTOR, SIGNAL_CODES, WSMV_NS,
} from "./ms-wsmv.ts";

const S = (local: string) => qname(WSMV_NS.soap, local);
const WSA = (local: string) => qname(WSMV_NS.addressing, local);
const WSMAN = (local: string) => qname(WSMV_NS.wsman, local);
const RSP = (local: string) => qname(WSMV_NS.shell, local);
const MUST_UNDERSTAND = S("mustUnderstand");
const text = (node: XmlNode | undefined): string | undefined => node?.text.trim();

export interface ProgramRun {
  readonly stdout?: string;
  readonly stderr?: string;
  readonly exitCode?: number;
  /** Runs until signalled to terminate. */
  readonly hang?: boolean;
}

export interface Program {
  readonly shell: "powershell" | "cmd";
  readonly script: string;
  /** The script came from a staged file, not the command line. */
  readonly staged: boolean;
}

export interface ContractHostOptions {
  readonly user: string;
  readonly password: string;
  readonly run?: (program: Program) => ProgramRun | undefined;
  /** Bytes of output per Receive reply, so long output needs several. @default 64 */
  readonly outputPerReceive?: number;
  /** How long a Receive for a running command is held before the OperationTimeout fault. @default 200 */
  readonly receiveHoldMs?: number;
  /** @default 1500 */
  readonly rebootDownMs?: number;
}

interface Command {
  readonly id: string;
  stdout: Buffer;
  stderr: Buffer;
  readonly exitCode: number;
  readonly hang: boolean;
  terminated: boolean;
}

interface Shell {
  readonly id: string;
  readonly commands: Map<string, Command>;
}

export interface RecordedRequest {
  readonly action: string;
  readonly shellId?: string;
  readonly commandLine?: string;
}

export interface ContractHost {
  readonly url: string;
  readonly files: Map<string, Buffer>;
  readonly requests: RecordedRequest[];
  readonly violations: string[];
  /** Shells created and not deleted. */
  openShells(): number;
  /** Commands signalled to terminate. */
  readonly terminated: string[];
  bootTime(): string;
  stop(): Promise<void>;
}

const CHUNK_WRITE = /^powershell\.exe -NoProfile -NonInteractive -Command "\$b=\[Convert\]::FromBase64String\('([A-Za-z0-9+/=]*)'\);\$f=\[IO\.File\]::Open\('((?:[^']|'')*)',\[IO\.FileMode\]::(Create|Append),\[IO\.FileAccess\]::Write\);\$f\.Write\(\$b,0,\$b\.Length\);\$f\.Close\(\)"$/;
const ENCODED = /^powershell\.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ([A-Za-z0-9+/=]+)$/;
const PS_FILE = /^powershell\.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File "([^"]+)"$/;
const CMD_FILE = /^cmd\.exe \/d \/c "([^"]+)"$/;

export async function startWinrmContractHost(options: ContractHostOptions): Promise<ContractHost> {
  const shells = new Map<string, Shell>();
  const seenMessageIds = new Set<string>();
  const files = new Map<string, Buffer>();
  const requests: RecordedRequest[] = [];
  const violations: string[] = [];
  const terminated: string[] = [];
  let boots = 1;
  let downUntil = 0;
  const bootTime = () => `2026-01-0${boots}T08:00:00.0000000Z`;
  let url = "";
  const xml = startXmlReader();

  const program = (commandLine: string): ProgramRun => {
    let match: RegExpExecArray | null;
    if ((match = CHUNK_WRITE.exec(commandLine))) {
      const path = match[2]!.replaceAll("''", "'");
      const data = Buffer.from(match[1]!, "base64");
      if (match[3] === "Append" && !files.has(path)) return { stderr: `Could not find file '${path}'.`, exitCode: 1 };
      files.set(path, match[3] === "Create" ? data : Buffer.concat([files.get(path)!, data]));
      return {};
    }
    if ((match = ENCODED.exec(commandLine))) {
      const script = Buffer.from(match[1]!, "base64").toString("utf16le");
      const hash = /^\(Get-FileHash -Algorithm SHA256 -LiteralPath '((?:[^']|'')*)'\)\.Hash\.ToLower\(\)$/.exec(script);
      if (hash) {
        const content = files.get(hash[1]!.replaceAll("''", "'"));
        return content ? { stdout: `${createHash("sha256").update(content).digest("hex")}\r\n` } : { stderr: "Get-FileHash : Cannot find path", exitCode: 1 };
      }
      const remove = /^Remove-Item -LiteralPath '((?:[^']|'')*)' -Force/.exec(script);
      if (remove) {
        files.delete(remove[1]!.replaceAll("''", "'"));
        return {};
      }
      if (script.includes("Win32_OperatingSystem).LastBootUpTime")) return { stdout: `${bootTime()}\r\n` };
      return options.run?.({ shell: "powershell", script, staged: false }) ?? {};
    }
    if ((match = PS_FILE.exec(commandLine)) || (match = CMD_FILE.exec(commandLine))) {
      const content = files.get(match[1]!);
      if (!content) return { stderr: `The system cannot find the file ${match[1]}.`, exitCode: 1 };
      const shell = commandLine.startsWith("powershell") ? "powershell" : "cmd";
      if (shell === "powershell" && !content.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))) violations.push(`staged ${match[1]} has no UTF-8 BOM`);
      const script = content.toString("utf8").replace(/^\uFEFF/, "");
      return options.run?.({ shell, script, staged: true }) ?? {};
    }
    if (/^shutdown\.exe \/r /.test(commandLine)) {
      setTimeout(() => {
        downUntil = Date.now() + (options.rebootDownMs ?? 1_500);
        boots++;
      }, 50);
      return {};
    }
    if (commandLine === "echo rebake-ready") return { stdout: "rebake-ready\r\n" };
    return options.run?.({ shell: "cmd", script: commandLine, staged: false }) ?? {};
  };

  const handle = async (request: IncomingMessage, response: ServerResponse, body: string) => {
    if (Date.now() < downUntil) {
      request.socket.destroy();
      return;
    }
    const expectedAuth = `Basic ${Buffer.from(`${options.user}:${options.password}`).toString("base64")}`;
    if (request.headers.authorization !== expectedAuth) {
      response.writeHead(401, { "WWW-Authenticate": "Basic realm=\"WSMAN\"" }).end();
      return;
    }
    const problems: string[] = [];
    const check = (ok: boolean, rule: string) => ok || problems.push(rule);
    check(request.method === "POST" && request.url === "/wsman", `POST /wsman, got ${request.method} ${request.url}`);
    check(CONTENT_TYPE.test(request.headers["content-type"] ?? ""), `Content-Type application/soap+xml;charset=UTF-8, got ${request.headers["content-type"]}`);
    const envelope = await xml.parse(body).catch((error: Error) => {
      problems.push(`a well-formed XML envelope: ${error.message}`);
      return undefined;
    });
    check(envelope?.tag === S("Envelope"), `a SOAP 1.2 envelope (${WSMV_NS.soap})`);
    const header = at(envelope, S("Header"));
    const bodyNode = at(envelope, S("Body"));
    const action = at(header, WSA("Action"));
    const resource = at(header, WSMAN("ResourceURI"));
    const messageId = text(at(header, WSA("MessageID"))) ?? "";
    check(action?.attrib[MUST_UNDERSTAND] === "true", "wsa:Action with mustUnderstand=true");
    check(text(resource) === CMD_RESOURCE_URI && resource?.attrib[MUST_UNDERSTAND] === "true", `wsman:ResourceURI ${CMD_RESOURCE_URI} with mustUnderstand=true`);
    check(text(at(header, WSA("To"))) === url, `wsa:To ${url}, got ${text(at(header, WSA("To")))}`);
    check(text(at(header, WSA("ReplyTo"), WSA("Address"))) === ANONYMOUS, "wsa:ReplyTo/wsa:Address anonymous");
    check(MESSAGE_ID.test(messageId), `wsa:MessageID uuid:<UUID>, got ${messageId}`);
    check(!seenMessageIds.has(messageId), `a fresh wsa:MessageID, ${messageId} was used before`);
    seenMessageIds.add(messageId);
    check(/^\d+$/.test(text(at(header, WSMAN("MaxEnvelopeSize"))) ?? ""), "wsman:MaxEnvelopeSize");
    check(OPERATION_TIMEOUT.test(text(at(header, WSMAN("OperationTimeout"))) ?? ""), `wsman:OperationTimeout PTnS, got ${text(at(header, WSMAN("OperationTimeout")))}`);
    const selectors = childrenNamed(at(header, WSMAN("SelectorSet")), WSMAN("Selector"));
    const selector = text(selectors.find((s) => SHELL_SELECTOR.test(s.attrib.Name ?? "")));
    const options_ = Object.fromEntries(childrenNamed(at(header, WSMAN("OptionSet")), WSMAN("Option")).map((o) => [o.attrib.Name ?? "", text(o)]));
    const shell = selector ? shells.get(selector) : undefined;
    const actionUri = text(action) ?? "";
    const recorded: RecordedRequest = { action: actionUri, ...(selector ? { shellId: selector } : {}) };
    /** The body's only element when it has exactly one of this name, else undefined. */
    const only = (parent: XmlNode | undefined, name: string): XmlNode | undefined => (parent?.children.length === 1 && parent.children[0]!.tag === name ? parent.children[0] : undefined);
    const requestActions: readonly string[] = Object.values(ACTIONS).map((a) => a.request);

    const reply = (replyAction: string, replyBody: string) => {
      const xml =
        `<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell">` +
        `<s:Header><a:Action>${replyAction}</a:Action><a:MessageID>uuid:${randomUUID().toUpperCase()}</a:MessageID><a:To>${ANONYMOUS}</a:To><a:RelatesTo>${messageId}</a:RelatesTo></s:Header>` +
        `<s:Body>${replyBody}</s:Body></s:Envelope>`;
      response.writeHead(200, { "Content-Type": "application/soap+xml;charset=UTF-8" }).end(xml);
    };
    const fault = (code: string, message: string) => {
      const xml =
        `<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd">` +
        `<s:Header><a:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/fault</a:Action><a:RelatesTo>${messageId}</a:RelatesTo></s:Header>` +
        `<s:Body><s:Fault><s:Code><s:Value>s:Receiver</s:Value></s:Code><s:Reason><s:Text xml:lang="en-US">${message}</s:Text></s:Reason>` +
        `<s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="${code}" Machine="127.0.0.1"><f:Message>${message}</f:Message></f:WSManFault></s:Detail></s:Fault></s:Body></s:Envelope>`;
      response.writeHead(500, { "Content-Type": "application/soap+xml;charset=UTF-8" }).end(xml);
    };

    if (actionUri === ACTIONS.create.request) {
      check(selectors.length === 0, "no SelectorSet on Create");
      const created = only(bodyNode, RSP("Shell"));
      check(text(at(created, RSP("InputStreams"))) === "stdin" && text(at(created, RSP("OutputStreams"))) === "stdout stderr", "rsp:Shell with InputStreams stdin and OutputStreams stdout stderr");
      check(options_.WINRS_CODEPAGE !== undefined, "WINRS_CODEPAGE option");
    } else if (requestActions.includes(actionUri)) {
      check(shell !== undefined, `a ShellId selector naming an open shell, got ${selector}`);
    } else {
      problems.push(`a WinRS action, got ${actionUri}`);
    }
    if (problems.length > 0) {
      violations.push(...problems.map((p) => `${actionUri.split("/").at(-1)}: expected ${p}`));
      requests.push(recorded);
      return fault("2150858817", `contract violation: ${problems.join("; ")}`);
    }

    switch (actionUri) {
      case ACTIONS.create.request: {
        const id = randomUUID().toUpperCase();
        shells.set(id, { id, commands: new Map() });
        requests.push(recorded);
        return reply(
          ACTIONS.create.response,
          `<x:ResourceCreated><a:Address>${url}</a:Address><a:ReferenceParameters><w:ResourceURI>${CMD_RESOURCE_URI}</w:ResourceURI><w:SelectorSet><w:Selector Name="ShellId">${id}</w:Selector></w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>` +
            `<rsp:Shell xmlns:rsp="${WSMV_NS.shell}"><rsp:ShellId>${id}</rsp:ShellId><rsp:ResourceUri>${CMD_RESOURCE_URI}</rsp:ResourceUri><rsp:Owner>${options.user}</rsp:Owner><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>`,
        );
      }
      case ACTIONS.command.request: {
        const commandNode = only(only(bodyNode, RSP("CommandLine")), RSP("Command"));
        const commandLine = commandNode?.text ?? "";
        requests.push({ ...recorded, commandLine });
        if (!commandNode || commandLine === "") violations.push("Command: expected rsp:CommandLine/rsp:Command with a command");
        if (commandLine.length > CMD_LINE_LIMIT) violations.push(`Command: the command line is ${commandLine.length} characters, over cmd.exe's ${CMD_LINE_LIMIT}`);
        const run = program(commandLine);
        const id = randomUUID().toUpperCase();
        shell!.commands.set(id, { id, stdout: Buffer.from(run.stdout ?? ""), stderr: Buffer.from(run.stderr ?? ""), exitCode: run.exitCode ?? 0, hang: run.hang ?? false, terminated: false });
        return reply(ACTIONS.command.response, `<rsp:CommandResponse><rsp:CommandId>${id}</rsp:CommandId></rsp:CommandResponse>`);
      }
      case ACTIONS.receive.request: {
        requests.push(recorded);
        const desired = only(only(bodyNode, RSP("Receive")), RSP("DesiredStream"));
        const command = shell!.commands.get(desired?.attrib.CommandId ?? "");
        if (!command || text(desired) !== "stdout stderr") {
          violations.push(`Receive: expected rsp:Receive/rsp:DesiredStream "stdout stderr" for a command of shell ${shell!.id}, got ${desired?.attrib.CommandId}`);
          return fault("2150858843", "The request for the Windows Remote Shell with ShellId failed because the shell was not found");
        }
        const per = options.outputPerReceive ?? 64;
        const out = command.stdout.subarray(0, per);
        const err = command.stderr.subarray(0, per);
        command.stdout = command.stdout.subarray(out.length);
        command.stderr = command.stderr.subarray(err.length);
        if (command.hang && !command.terminated && out.length === 0 && err.length === 0) {
          await new Promise((resolve) => setTimeout(resolve, options.receiveHoldMs ?? 200));
          return fault(OPERATION_TIMED_OUT_CODE, "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.");
        }
        const done = !command.hang && command.stdout.length === 0 && command.stderr.length === 0;
        const stream = (name: string, data: Buffer) => `<rsp:Stream Name="${name}" CommandId="${command.id}">${data.toString("base64")}</rsp:Stream>`;
        const streams = (out.length ? stream("stdout", out) : "") + (err.length ? stream("stderr", err) : "");
        const ends = done ? `<rsp:Stream Name="stdout" CommandId="${command.id}" End="true"></rsp:Stream><rsp:Stream Name="stderr" CommandId="${command.id}" End="true"></rsp:Stream>` : "";
        const state = done
          ? `<rsp:CommandState CommandId="${command.id}" State="${COMMAND_STATES.done}"><rsp:ExitCode>${command.exitCode}</rsp:ExitCode></rsp:CommandState>`
          : `<rsp:CommandState CommandId="${command.id}" State="${COMMAND_STATES.running}"></rsp:CommandState>`;
        return reply(ACTIONS.receive.response, `<rsp:ReceiveResponse>${streams}${ends}${state}</rsp:ReceiveResponse>`);
      }
      case ACTIONS.signal.request: {
        requests.push(recorded);
        const signal = only(bodyNode, RSP("Signal"));
        const command = shell!.commands.get(signal?.attrib.CommandId ?? "");
        if (!command || text(at(signal, RSP("Code"))) !== SIGNAL_CODES.terminate) violations.push(`Signal: expected rsp:Signal with a known CommandId and rsp:Code ${SIGNAL_CODES.terminate}`);
        if (command) {
          command.terminated = true;
          terminated.push(command.id);
        }
        return reply(ACTIONS.signal.response, "<rsp:SignalResponse/>");
      }
      case ACTIONS.delete.request: {
        requests.push(recorded);
        if (!bodyNode || bodyNode.children.length > 0 || bodyNode.text.trim() !== "") violations.push("Delete: expected an empty body");
        for (const command of shell!.commands.values()) {
          if (command.hang && !command.terminated) violations.push(`Delete: command ${command.id} was still running and never signalled`);
        }
        shells.delete(shell!.id);
        return reply(ACTIONS.delete.response, "");
      }
    }
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      handle(request, response, Buffer.concat(chunks).toString("utf8")).catch((error: Error) => {
        violations.push(`host error: ${error.message}`);
        response.writeHead(500).end();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/wsman`;
  return {
    url,
    files,
    requests,
    violations,
    terminated,
    openShells: () => shells.size,
    bootTime,
    stop: async () => {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      await xml.close();
    },
  };
}
