/**
 * The one door through which rebake reads a file a user named (recipes, apps, scripts, stacks,
 * device manifests, hypervisor configs). It opens without blocking, asks the open file (not the
 * path, which may change in between) what it is, refuses anything but a regular file at once, and
 * never reads past the limit, whatever the size the file claims: a FIFO, /dev/zero or a link to
 * either cannot hang or exhaust rebake.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from "node:fs";

const MIN_BUFFER_BYTES = 4096;

/** Why a file could not be read, in words a user acts on. */
export type InputFileReason = "not-found" | "not-a-file" | "too-large" | "unreadable";

export class InputFileError extends Error {
  constructor(
    readonly reason: InputFileReason,
    message: string,
    /** For not-a-file: "a directory", "a named pipe"... */
    readonly detail?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** What a special file is, for the message. */
function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return "a directory";
  if (stats.isFIFO()) return "a named pipe";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  if (stats.isSocket()) return "a socket";
  return "not a regular file";
}

/** Reads the whole of a regular file of at most `maxBytes`; throws InputFileError otherwise. */
export function readInputFile(path: string, maxBytes: number): Buffer {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting for one.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    throw fromErrno(error as NodeJS.ErrnoException);
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) {
      const kind = kindOf(stats);
      throw new InputFileError("not-a-file", `this is ${kind}, not a file`, kind);
    }
    // One byte more than allowed tells "at the limit" from "over it" without trusting st_size.
    // Sized by what stat says (recipes are small), grown when the file holds more, never past
    // one byte over the limit.
    let buffer = Buffer.allocUnsafe(Math.min(maxBytes + 1, Math.max(stats.size + 1, MIN_BUFFER_BYTES)));
    let total = 0;
    for (;;) {
      if (total === buffer.length) {
        const grown = Buffer.allocUnsafe(Math.min(maxBytes + 1, buffer.length * 2));
        buffer.copy(grown, 0, 0, total);
        buffer = grown;
      }
      const read = readSync(fd, buffer, total, buffer.length - total, null);
      if (read === 0) return buffer.subarray(0, total);
      total += read;
      if (total > maxBytes) throw new InputFileError("too-large", `the file is larger than ${formatLimit(maxBytes)}`);
    }
  } catch (error) {
    if (error instanceof InputFileError) throw error;
    throw fromErrno(error as NodeJS.ErrnoException);
  } finally {
    closeSync(fd);
  }
}

function fromErrno(error: NodeJS.ErrnoException): InputFileError {
  switch (error.code) {
    case "ENOENT":
    case "ENOTDIR":
      return new InputFileError("not-found", "no such file");
    case "ENXIO":
      // open(2) on a Unix socket.
      return new InputFileError("not-a-file", "this is a socket, not a file", "a socket");
    case "EISDIR":
      return new InputFileError("not-a-file", "this is a directory, not a file", "a directory");
    case "ELOOP":
      return new InputFileError("unreadable", "the path is a loop of symbolic links");
    default:
      return new InputFileError("unreadable", `the file cannot be read (${error.code ?? error.message})`);
  }
}

export function formatLimit(bytes: number): string {
  const MIB = 1024 * 1024;
  return bytes >= MIB ? `${(bytes / MIB).toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;
}

/** The rule id and fix for each way a named file cannot be read, the same for every kind of file. */
export function inputFileRule(error: InputFileError): { readonly rule: string; readonly hint: string } {
  switch (error.reason) {
    case "not-found":
      return { rule: "file-not-found", hint: "check the path" };
    case "not-a-file":
      return { rule: "file-not-regular", hint: "name a regular file (not a directory, pipe, device or socket, nor a link to one)" };
    case "too-large":
      return { rule: "file-too-large", hint: "split it up, or check that the right file was named" };
    case "unreadable":
      return { rule: "file-unreadable", hint: "check its permissions" };
  }
}
