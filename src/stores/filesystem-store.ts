/** A PVS store reached as a directory: local disk, a UNC path on Windows, or a mounted share. */
import { createHash, randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { access, link, open, readdir, readFile, rename, rm, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { StoreFullError, StoreUnreachableError } from "./errors.ts";
import type { StoreEntry, VdiskStore } from "./store.ts";

/** Copy buffer: large enough to stream a VHDX at disk speed, small enough to check for abort often. */
const COPY_CHUNK_BYTES = 4 * 1024 * 1024;

const NO_HARD_LINKS = ["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EXDEV"];

export class FilesystemStore implements VdiskStore {
  constructor(readonly location: string) {}

  async probe(): Promise<void> {
    try {
      await access(this.location, constants.W_OK);
      if (!(await stat(this.location)).isDirectory()) throw Object.assign(new Error("not a directory"), { code: "ENOTDIR" });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "error";
      throw new StoreUnreachableError(`the PVS store ${this.location} is not reachable (${code}); check the path in the stack file and that the share is mounted and writable`, this.location);
    }
  }

  async stat(name: string): Promise<StoreEntry | undefined> {
    try {
      return { size: (await stat(join(this.location, name))).size };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw this.wrap(error, `stat ${name}`);
    }
  }

  async readText(name: string): Promise<string | undefined> {
    try {
      return await readFile(join(this.location, name), "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw this.wrap(error, `read ${name}`);
    }
  }

  async writeText(name: string, text: string): Promise<void> {
    const temp = `.${name}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      const handle = await open(join(this.location, temp), "wx");
      try {
        await handle.writeFile(text);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(join(this.location, temp), join(this.location, name));
    } catch (error) {
      throw this.wrap(error, `write ${name}`);
    } finally {
      await rm(join(this.location, temp), { force: true });
    }
  }

  async upload(localPath: string, temp: string, signal?: AbortSignal): Promise<void> {
    const target = join(this.location, temp);
    try {
      const source = await open(localPath, "r");
      try {
        const dest = await open(target, "wx");
        try {
          const buffer = Buffer.allocUnsafe(COPY_CHUNK_BYTES);
          for (;;) {
            signal?.throwIfAborted();
            const { bytesRead } = await source.read(buffer, 0, buffer.length, null);
            if (bytesRead === 0) break;
            // A nearly full disk accepts part of a write; the next write then reports ENOSPC.
            for (let offset = 0; offset < bytesRead; ) offset += (await dest.write(buffer, offset, bytesRead - offset)).bytesWritten;
          }
          // The rename that follows must never publish data still in the page cache.
          await dest.sync();
        } finally {
          await dest.close();
        }
      } finally {
        await source.close();
      }
    } catch (error) {
      await rm(target, { force: true });
      if (signal?.aborted) throw error;
      throw this.wrap(error, `copy ${localPath} to ${temp}`);
    }
  }

  async sha256(name: string): Promise<string> {
    const hash = createHash("sha256");
    const handle = await open(join(this.location, name), "r");
    try {
      for await (const chunk of handle.createReadStream({ highWaterMark: COPY_CHUNK_BYTES, autoClose: false })) hash.update(chunk as Buffer);
    } finally {
      await handle.close();
    }
    return hash.digest("hex");
  }

  async rename(from: string, to: string): Promise<void> {
    // link + unlink: fails with EEXIST instead of silently replacing a vDisk that appeared meanwhile.
    try {
      await link(join(this.location, from), join(this.location, to));
      await unlink(join(this.location, from));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "";
      // Some mounted shares (cifs, FAT) have no hard links: check, then rename, under the publish lock.
      if (!NO_HARD_LINKS.includes(code)) throw this.wrap(error, `rename ${from} to ${to}`);
      if (await this.stat(to)) throw Object.assign(new Error(`${to} exists`), { code: "EEXIST" });
      await rename(join(this.location, from), join(this.location, to));
    }
  }

  async remove(name: string): Promise<void> {
    try {
      await rm(join(this.location, name), { force: true });
    } catch (error) {
      throw this.wrap(error, `remove ${name}`);
    }
  }

  async list(): Promise<string[]> {
    try {
      return await readdir(this.location);
    } catch (error) {
      throw this.wrap(error, "list");
    }
  }

  async createExclusive(name: string, text: string): Promise<boolean> {
    try {
      const handle = await open(join(this.location, name), "wx");
      try {
        await handle.writeFile(text);
      } finally {
        await handle.close();
      }
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw this.wrap(error, `create ${name}`);
    }
  }

  private wrap(error: unknown, what: string): Error {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOSPC" || code === "EDQUOT") {
      return new StoreFullError(`the PVS store ${this.location} is full (${what}: ${code}); free space in the store or remove old vDisk versions, then publish again`, this.location);
    }
    if (code === "ENOENT" && what === "list") {
      return new StoreUnreachableError(`the PVS store ${this.location} is not reachable (ENOENT); check the path in the stack file`, this.location);
    }
    return error instanceof Error ? error : new Error(String(error));
  }
}
