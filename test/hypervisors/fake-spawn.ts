/** A scripted stand-in for child_process.spawn: records calls, lets tests drive output and exit. */
import { EventEmitter } from "node:events";
import { PassThrough } from "node:stream";
import type { ChildProcess, spawn } from "node:child_process";

export interface FakeChild {
  readonly command: string;
  readonly args: readonly string[];
  readonly stdout: PassThrough;
  readonly stderr: PassThrough;
  readonly signals: NodeJS.Signals[];
  exit(code: number | null, signal?: NodeJS.Signals | null): void;
}

/** `onSpawn` scripts each child; a child ends on SIGKILL, or on SIGTERM unless `ignoreTerm`. */
export function createFakeSpawn(onSpawn: (child: FakeChild) => void = () => {}, options: { readonly ignoreTerm?: boolean } = {}) {
  const children: FakeChild[] = [];
  const fake = ((command: string, args: readonly string[]) => {
    const emitter = new EventEmitter();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let exitCode: number | null = null;
    let signalCode: NodeJS.Signals | null = null;
    const child: FakeChild = {
      command,
      args,
      stdout,
      stderr,
      signals: [],
      exit(code, signal = null) {
        if (exitCode !== null || signalCode !== null) return;
        exitCode = code;
        signalCode = signal;
        setImmediate(() => emitter.emit("exit", code, signal));
      },
    };
    const process = Object.assign(emitter, {
      pid: 40_000 + children.length,
      stdout,
      stderr,
      kill(signal: NodeJS.Signals = "SIGTERM") {
        child.signals.push(signal);
        if (signal === "SIGKILL" || !options.ignoreTerm) child.exit(null, signal);
        return true;
      },
    });
    // Getters, not copies: Object.assign would freeze today's values.
    Object.defineProperties(process, {
      exitCode: { get: () => exitCode },
      signalCode: { get: () => signalCode },
    });
    children.push(child);
    setImmediate(() => onSpawn(child));
    return process as unknown as ChildProcess;
  }) as unknown as typeof spawn;
  return Object.assign(fake, { children });
}
