/**
 * A PVS store reached over SMB with smbclient, for publishing machines that do not mount the
 * share (a Linux CI runner). Every operation is one smbclient call through the exec layer; the
 * password travels in the PASSWD environment variable, never on the command line.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256File } from "../util/hash-file.ts";
import type { Exec, ExecResult } from "../util/exec.ts";
import { StoreError, StoreFullError, StoreUnreachableError } from "./errors.ts";
import type { StoreEntry, VdiskStore } from "./store.ts";

export interface SmbLocation {
  readonly host: string;
  readonly port?: number;
  readonly share: string;
  /** Directory inside the share, `/`-separated, empty for the share root. */
  readonly directory: string;
}

export class SmbLocationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

const SMB_URL = /^smb:\/\/([^/:\s]+)(?::(\d+))?\/([^/\s]+)((?:\/[^/]+)*)\/?$/;

/** Parses `smb://host[:port]/share[/dir...]`. */
export function parseSmbUrl(url: string): SmbLocation {
  const match = SMB_URL.exec(url);
  if (!match) throw new SmbLocationError(`not an SMB store location: '${url}'; write smb://host[:port]/share[/directory]`);
  const [, host = "", port, share = "", dir = ""] = match;
  return { host, ...(port ? { port: Number(port) } : {}), share, directory: decodeURIComponent(dir.replace(/^\//, "")) };
}

export interface SmbCredentials {
  readonly username: string;
  readonly password: string;
}

/** NT status codes that mean the store cannot be reached at all. */
const UNREACHABLE = /NT_STATUS_(CONNECTION_REFUSED|HOST_UNREACHABLE|NETWORK_UNREACHABLE|IO_TIMEOUT|BAD_NETWORK_NAME|OBJECT_PATH_NOT_FOUND|LOGON_FAILURE|ACCESS_DENIED|CONNECTION_RESET|UNSUCCESSFUL|NOT_FOUND)/;
const FULL = /NT_STATUS_DISK_FULL|NT_STATUS_QUOTA_EXCEEDED/;
const NOT_FOUND = /NT_STATUS_(NO_SUCH_FILE|OBJECT_NAME_NOT_FOUND)/;
const EXISTS = /NT_STATUS_OBJECT_NAME_COLLISION/;
/** `del` on a directory or `rmdir` on a file: the other command of the pair applies. */
const WRONG_KIND = /NT_STATUS_(FILE_IS_A_DIRECTORY|NOT_A_DIRECTORY)/;
/** One `ls` line: name, attributes, size, date. */
const LS_LINE = /^ {2}(.+?)\s+([A-Z]*)\s+(\d+)\s+\w{3} \w{3}\s+\d+ [\d:]+ \d{4}$/;
/** A VHDX copy over a WAN link takes a while; smbclient's own timeout covers a dead server. */
const COMMAND_TIMEOUT_MS = 6 * 60 * 60 * 1000;

export class SmbStore implements VdiskStore {
  private readonly target: SmbLocation;

  constructor(
    readonly location: string,
    private readonly exec: Exec,
    private readonly credentials?: SmbCredentials,
  ) {
    this.target = parseSmbUrl(location);
  }

  async probe(): Promise<void> {
    await this.run("ls", `probe`);
  }

  async stat(name: string): Promise<StoreEntry | undefined> {
    const result = await this.run(`ls ${quote(name)}`, `stat ${name}`, { missingOk: true });
    if (!result) return undefined;
    for (const line of result.stdout.split("\n")) {
      const match = LS_LINE.exec(line.trimEnd());
      if (match && match[1] === name) return { size: Number(match[3]) };
    }
    return undefined;
  }

  async readText(name: string): Promise<string | undefined> {
    return this.withLocalTemp(async (local) => {
      const result = await this.run(`get ${quote(name)} ${quote(local)}`, `read ${name}`, { missingOk: true });
      return result ? readFile(local, "utf8") : undefined;
    });
  }

  async writeText(name: string, text: string): Promise<void> {
    const temp = `.${name}.${randomBytes(4).toString("hex")}.tmp`;
    await this.withLocalTemp(async (local) => {
      await writeFile(local, text);
      await this.run(`put ${quote(local)} ${quote(temp)}`, `write ${name}`);
    });
    try {
      await this.run(`rename ${quote(temp)} ${quote(name)} -f`, `write ${name}`);
    } catch (error) {
      await this.remove(temp).catch(() => undefined);
      throw error;
    }
  }

  async upload(localPath: string, temp: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.run(`put ${quote(localPath)} ${quote(temp)}`, `copy ${localPath} to ${temp}`, { ...(signal ? { signal } : {}) });
    } catch (error) {
      await this.remove(temp).catch(() => undefined);
      throw error;
    }
  }

  async sha256(name: string): Promise<string> {
    return this.withLocalTemp(async (local) => {
      await this.run(`get ${quote(name)} ${quote(local)}`, `read back ${name}`);
      return sha256File(local);
    });
  }

  async rename(from: string, to: string): Promise<void> {
    // Without -f the server refuses to replace an existing file: a vDisk is never overwritten.
    await this.run(`rename ${quote(from)} ${quote(to)}`, `rename ${from} to ${to}`);
  }

  /** Files and lock directories alike, in one call: whichever of the two commands applies succeeds. */
  async remove(name: string): Promise<void> {
    await this.run(`del ${quote(name)}; rmdir ${quote(name)}`, `remove ${name}`, { missingOk: true });
  }

  async list(): Promise<string[]> {
    const result = await this.run("ls", "list");
    return result.stdout.split("\n").flatMap((line) => {
      const name = LS_LINE.exec(line.trimEnd())?.[1];
      return name && name !== "." && name !== ".." ? [name] : [];
    });
  }

  /** SMB has no O_EXCL for smbclient: mkdir is the atomic create-if-absent it offers. */
  async createExclusive(name: string): Promise<boolean> {
    try {
      await this.run(`mkdir ${quote(name)}`, `create ${name}`);
      return true;
    } catch (error) {
      if (error instanceof StoreError && EXISTS.test(error.message)) return false;
      throw error;
    }
  }

  private async withLocalTemp<T>(body: (path: string) => Promise<T>): Promise<T> {
    const dir = await mkdtemp(join(tmpdir(), "rebake-smb-"));
    try {
      return await body(join(dir, "file"));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private run(command: string, what: string, options: { missingOk: true; signal?: AbortSignal }): Promise<ExecResult | undefined>;
  private run(command: string, what: string, options?: { signal?: AbortSignal }): Promise<ExecResult>;
  private async run(command: string, what: string, options: { missingOk?: boolean; signal?: AbortSignal } = {}): Promise<ExecResult | undefined> {
    const { host, port, share, directory } = this.target;
    const args = [`//${host}/${share}`, ...(port ? ["-p", String(port)] : []), ...(directory ? ["-D", directory] : [])];
    args.push(...(this.credentials ? ["-U", this.credentials.username] : ["-N"]), "-c", command);
    const result = await this.exec("smbclient", args, {
      nothrow: true,
      timeoutMs: COMMAND_TIMEOUT_MS,
      ...(this.credentials ? { env: { PASSWD: this.credentials.password } } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const text = output(result);
    if (FULL.test(text)) throw new StoreFullError(`the PVS store ${this.location} is full (${what}: ${status(text)}); free space in the store or remove old vDisk versions, then publish again`, this.location);
    if (options.missingOk && NOT_FOUND.test(text)) {
      const others = text.split("\n").filter((line) => /NT_STATUS_/.test(line) && !NOT_FOUND.test(line) && !WRONG_KIND.test(line));
      if (others.length === 0) return undefined;
    }
    if (/NT_STATUS_/.test(text) || result.exitCode !== 0) {
      if (UNREACHABLE.test(text) && !EXISTS.test(text)) {
        throw new StoreUnreachableError(`the PVS store ${this.location} is not reachable (${status(text)}); check the host, share and credentials in the stack file and that port ${port ?? 445} is open`, this.location);
      }
      throw new StoreError(`smbclient ${what} in ${this.location} failed: ${status(text) || `exit code ${result.exitCode}`}`, this.location);
    }
    return result;
  }
}

function output(result: ExecResult): string {
  return `${result.stdout}\n${result.stderr}`;
}

function status(text: string): string {
  return /NT_STATUS_[A-Z_]+/.exec(text)?.[0] ?? text.trim().split("\n").pop() ?? "";
}

/** smbclient's command parser takes double quotes around names with spaces; quotes cannot be escaped. */
function quote(name: string): string {
  if (name.includes('"')) throw new SmbLocationError(`smbclient cannot pass a name containing '"': ${name}`);
  return `"${name}"`;
}
