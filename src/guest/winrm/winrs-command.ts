/**
 * One command in one WinRS shell: Create the shell, start the Command, Receive until its state is
 * Done (output streams are base64), then Delete the shell. On a timeout or abort the command is
 * signalled to terminate first, so nothing keeps running in the guest.
 */
import { StringDecoder } from "node:string_decoder";
import { GuestError, GuestTimeoutError } from "../channel.ts";
import {
  commandEnvelope,
  COMMAND_STATE_DONE,
  createShellEnvelope,
  deleteShellEnvelope,
  OPERATION_TIMEOUT_FAULT,
  receiveEnvelope,
  signalEnvelope,
  type EnvelopeContext,
} from "./wsman-envelope.ts";
import { post, WinrmFaultError, WinrmProtocolError, type WinrmEndpoint } from "./wsman-client.ts";
import { elements, firstText } from "./xml.ts";

/** How long one Receive may wait for output (wsman:OperationTimeout); Windows' own default is 60 s. */
export const RECEIVE_WAIT_S = 20;
/** HTTP time on top of the operation timeout before the request counts as lost. */
const HTTP_MARGIN_MS = 10_000;
/** Create, Command, Signal and Delete answer at once. */
const QUICK_REQUEST_MS = 30_000;

export class WinrmCommandTimeoutError extends GuestTimeoutError {}

export interface WinrsRunOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  readonly onOutput?: (chunk: string, stream: "stdout" | "stderr") => void;
}

export interface WinrsResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runWinrsCommand(endpoint: WinrmEndpoint, commandLine: string, options: WinrsRunOptions): Promise<WinrsResult> {
  const deadline = Date.now() + options.timeoutMs;
  const context: EnvelopeContext = { to: endpoint.url, operationTimeoutS: RECEIVE_WAIT_S };
  const created = await post(endpoint, createShellEnvelope(context), QUICK_REQUEST_MS, options.signal);
  const shellId = elements(created, "Selector").find((selector) => selector.attributes.Name === "ShellId")?.text || firstText(created, "ShellId");
  if (!shellId) throw new WinrmProtocolError(`WinRM at ${endpoint.url} created a shell but named no ShellId`);
  try {
    const started = await post(endpoint, commandEnvelope(context, shellId, commandLine), QUICK_REQUEST_MS, options.signal);
    const commandId = firstText(started, "CommandId");
    if (!commandId) throw new WinrmProtocolError(`WinRM at ${endpoint.url} started a command in shell ${shellId} but named no CommandId`);
    try {
      return await receiveAll(endpoint, shellId, commandId, deadline, options);
    } catch (error) {
      // The process outlives a lost Receive: tell WinRS to end it.
      await post(endpoint, signalEnvelope(context, shellId, commandId), QUICK_REQUEST_MS).catch(() => undefined);
      throw error;
    }
  } finally {
    await post(endpoint, deleteShellEnvelope(context, shellId), QUICK_REQUEST_MS).catch(() => undefined);
  }
}

async function receiveAll(endpoint: WinrmEndpoint, shellId: string, commandId: string, deadline: number, options: WinrsRunOptions): Promise<WinrsResult> {
  const decoders = { stdout: new StringDecoder("utf8"), stderr: new StringDecoder("utf8") };
  const output = { stdout: "", stderr: "" };
  const take = (stream: "stdout" | "stderr", text: string) => {
    if (!text) return;
    output[stream] += text;
    options.onOutput?.(text, stream);
  };
  for (;;) {
    options.signal?.throwIfAborted();
    const remainingS = Math.ceil((deadline - Date.now()) / 1000);
    if (remainingS <= 0) throw new WinrmCommandTimeoutError(`the command on ${endpoint.url} did not finish within ${options.timeoutMs} ms and was terminated`);
    const context: EnvelopeContext = { to: endpoint.url, operationTimeoutS: Math.min(RECEIVE_WAIT_S, remainingS) };
    let reply: string;
    try {
      reply = await post(endpoint, receiveEnvelope(context, shellId, commandId), context.operationTimeoutS * 1000 + HTTP_MARGIN_MS, options.signal);
    } catch (error) {
      if (error instanceof WinrmFaultError && error.code === OPERATION_TIMEOUT_FAULT) continue;
      throw error;
    }
    for (const stream of elements(reply, "Stream")) {
      const name = stream.attributes.Name;
      if ((name === "stdout" || name === "stderr") && stream.attributes.CommandId?.toUpperCase() === commandId.toUpperCase()) {
        take(name, decoders[name].write(Buffer.from(stream.text, "base64")));
      }
    }
    const state = elements(reply, "CommandState")[0];
    if (state?.attributes.State === COMMAND_STATE_DONE) {
      take("stdout", decoders.stdout.end());
      take("stderr", decoders.stderr.end());
      const exitCode = Number(firstText(reply, "ExitCode"));
      if (!Number.isInteger(exitCode)) throw new GuestError(`WinRM at ${endpoint.url} reported command ${commandId} done without an exit code`);
      return { exitCode, ...output };
    }
  }
}
