import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdirSync, writeFileSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  AUTOUNATTEND_FILE,
  AnswerMediaError,
  META_DATA_FILE,
  USER_DATA_FILE,
  answerFilesFor,
  createAnswerMedia,
  volumeLabelFor,
  writeAnswerMedia,
} from "../../src/answers/media.ts";
import { GUEST_TOOLS_SCRIPT } from "../../src/answers/guest-tools-script.ts";
import { createSecretResolver } from "../../src/recipe/secrets.ts";
import { CommandFailedError, createExec, createRecordingExec } from "../../src/util/exec.ts";
import { linuxRecipe, windowsRecipe } from "./recipes.ts";

const PRODUCT_KEY = "TESTK-EYNOT-AREAL-KEY00-00000";
const PASSWORD = "Media-Passw0rd#9";
const secrets = createSecretResolver({ env: { WIN_KEY: PRODUCT_KEY } });

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), "rebake-media-test-"));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function freshDir(name: string): Promise<string> {
  return mkdtemp(join(root, `${name}-`));
}

describe("answerFilesFor", () => {
  test("gives a Linux recipe cloud-init NoCloud files on a CIDATA volume", () => {
    const recipe = linuxRecipe();
    const files = answerFilesFor(recipe, { buildId: "b1", secrets });
    assert.deepEqual([...files.keys()], [META_DATA_FILE, USER_DATA_FILE]);
    assert.match(files.get(USER_DATA_FILE) ?? "", /^#cloud-config\n/);
    assert.equal(volumeLabelFor(recipe), "CIDATA");
  });

  test("gives a Windows recipe autounattend.xml and the first-logon tools script", () => {
    const recipe = windowsRecipe({ os: { productKey: "env:WIN_KEY" } });
    const files = answerFilesFor(recipe, { buildId: "b1", adminPassword: PASSWORD, secrets });
    assert.deepEqual([...files.keys()], [AUTOUNATTEND_FILE, GUEST_TOOLS_SCRIPT]);
    assert.ok(files.get(AUTOUNATTEND_FILE)?.includes(`<Key>${PRODUCT_KEY}</Key>`));
    assert.equal(volumeLabelFor(recipe), "REBAKE");
  });

  test("refuses a Windows recipe without an administrator password", () => {
    assert.throws(() => answerFilesFor(windowsRecipe(), { buildId: "b1", secrets }), (error: Error) => {
      assert.ok(error instanceof AnswerMediaError);
      assert.match(error.message, /win11-vdi.*adminPassword/);
      return true;
    });
  });
});

describe("createAnswerMedia with a recording exec", () => {
  test("runs xorriso on the staged files into a temp name, then renames it to the final path", async () => {
    const dir = await freshDir("fake");
    const outPath = join(dir, "answers.iso");
    let staged: string[] = [];
    const exec = createRecordingExec((_command, args) => {
      const staging = args[args.length - 1] ?? "";
      staged = readdirSync(staging);
      writeFileSync(args[args.indexOf("-o") + 1] ?? "", "fake iso");
      return {};
    });
    const media = await createAnswerMedia(new Map([["user-data", "#cloud-config\n"], ["meta-data", "x"]]), { volumeLabel: "CIDATA", outPath, exec, tempDir: dir });

    assert.deepEqual(media, { path: outPath, sha256: createHash("sha256").update("fake iso").digest("hex") });
    assert.deepEqual(staged.sort(), ["meta-data", "user-data"]);
    const args = exec.calls[0]?.args ?? [];
    assert.deepEqual(args.slice(0, 8), ["-as", "mkisofs", "-quiet", "-V", "CIDATA", "-J", "-r", "-o"]);
    assert.ok(args[8]?.startsWith(join(dir, ".answers.iso.")) && args[8].endsWith(".tmp"), args[8]);
    assert.equal(exec.calls[0]?.options?.env?.SOURCE_DATE_EPOCH, "946684800");
    assert.deepEqual(await readdir(dir), ["answers.iso"], "no staging dir or temp file is left");
  });

  test("leaves nothing behind when xorriso fails", async () => {
    const dir = await freshDir("fail");
    const exec = createRecordingExec(() => ({ exitCode: 5, stderr: "xorriso : FAILURE : no space left" }));
    await assert.rejects(
      createAnswerMedia(new Map([["user-data", "x"]]), { volumeLabel: "CIDATA", outPath: join(dir, "a.iso"), exec, tempDir: dir }),
      CommandFailedError,
    );
    assert.deepEqual(await readdir(dir), []);
  });

  // What Debian 12's xorriso 1.5.4 printed when it crashed once in a loaded CI run.
  const CRASH = "xorriso 1.5.4 : RockRidge filesystem manipulator, libburnia project.\n\nUNIX-SIGNAL:  SIGSEGV  errno= 0\nxorriso : ABORT : Trying to shut down drive and library\n";

  test("a xorriso that crashes on a signal is run once more; a second crash fails with its output", async () => {
    const dir = await freshDir("crash");
    let runs = 0;
    const once = createRecordingExec((_command, args) => {
      runs++;
      if (runs === 1) return { exitCode: 1, stderr: CRASH };
      writeFileSync(args[args.indexOf("-o") + 1] ?? "", "fake iso");
      return {};
    });
    const media = await createAnswerMedia(new Map([["user-data", "x"]]), { volumeLabel: "CIDATA", outPath: join(dir, "a.iso"), exec: once, tempDir: dir });
    assert.equal(once.calls.length, 2);
    assert.equal(media.path, join(dir, "a.iso"));
    const always = createRecordingExec(() => ({ exitCode: 1, stderr: CRASH }));
    await assert.rejects(createAnswerMedia(new Map([["user-data", "x"]]), { volumeLabel: "CIDATA", outPath: join(dir, "b.iso"), exec: always, tempDir: dir }), /SIGSEGV/);
    assert.equal(always.calls.length, 2, "one retry, not a loop");
    assert.deepEqual(await readdir(dir), ["a.iso"], "nothing is left of the failed one");
  });

  test("a xorriso failure that is not a crash is not retried", async () => {
    const dir = await freshDir("noretry");
    const exec = createRecordingExec(() => ({ exitCode: 5, stderr: "xorriso : FAILURE : no space left" }));
    await assert.rejects(createAnswerMedia(new Map([["user-data", "x"]]), { volumeLabel: "CIDATA", outPath: join(dir, "a.iso"), exec, tempDir: dir }), CommandFailedError);
    assert.equal(exec.calls.length, 1);
  });

  const BAD_NAMES = ["../escape", "sub/dir.txt", ".hidden", ""];
  for (const name of BAD_NAMES) {
    test(`refuses the file name ${JSON.stringify(name)} before running anything`, async () => {
      const exec = createRecordingExec();
      await assert.rejects(
        createAnswerMedia(new Map([[name, "x"]]), { volumeLabel: "CIDATA", outPath: join(root, "never.iso"), exec }),
        AnswerMediaError,
      );
      assert.equal(exec.calls.length, 0);
    });
  }

  test("refuses an empty file set", async () => {
    await assert.rejects(
      createAnswerMedia(new Map(), { volumeLabel: "CIDATA", outPath: join(root, "never.iso"), exec: createRecordingExec() }),
      /no answer files/,
    );
  });
});

describe("createAnswerMedia with real xorriso", () => {
  const exec = createExec();

  async function listing(iso: string, readFs: "nojoliet" | "norock"): Promise<{ label: string; names: string[] }> {
    const { stdout, stderr } = await exec("xorriso", ["-read_fs", readFs, "-indev", iso, "-ls"]);
    const label = /Volume id\s*:\s*'([^']*)'/.exec(stdout + stderr)?.[1] ?? "";
    const names = stdout.split("\n").filter((line) => line.startsWith("'")).map((line) => line.slice(1, -1));
    return { label, names: names.sort() };
  }

  async function extract(iso: string, name: string, to: string): Promise<string> {
    const target = join(to, `extracted-${name}`);
    await exec("xorriso", ["-osirrox", "on", "-indev", iso, "-extract", `/${name}`, target]);
    return readFile(target, "utf8");
  }

  const CASES = [
    { os: "linux", recipe: linuxRecipe(), label: "CIDATA" },
    { os: "windows", recipe: windowsRecipe({ os: { productKey: "env:WIN_KEY" } }), label: "REBAKE" },
  ];
  for (const c of CASES) {
    test(`builds a ${c.os} answer ISO whose label and files Rock Ridge and Joliet readers both see`, async () => {
      const dir = await freshDir(c.os);
      const options = { buildId: "it-1", adminPassword: PASSWORD, secrets };
      const files = answerFilesFor(c.recipe, options);
      const outPath = join(dir, "answers.iso");
      const media = await writeAnswerMedia(c.recipe, { ...options, outPath, exec, tempDir: dir });

      assert.equal(media.path, outPath);
      const bytes = await readFile(outPath);
      assert.equal(media.sha256, createHash("sha256").update(bytes).digest("hex"));
      assert.equal((await stat(outPath)).mode & 0o777, 0o600, "answer media may hold secrets");
      assert.deepEqual(await readdir(dir), ["answers.iso"], "no staging dir or temp file is left");

      const expectedNames = [...files.keys()].sort();
      for (const readFs of ["nojoliet", "norock"] as const) {
        assert.deepEqual(await listing(outPath, readFs), { label: c.label, names: expectedNames }, readFs);
      }
      for (const [name, content] of files) assert.equal(await extract(outPath, name, dir), content, name);
    });
  }

  test("gives the same ISO, byte for byte, for the same answer files", async () => {
    const dir = await freshDir("repro");
    const files = answerFilesFor(linuxRecipe(), { buildId: "same", secrets });
    const first = await createAnswerMedia(files, { volumeLabel: "CIDATA", outPath: join(dir, "1.iso"), exec });
    // Files written in a later second get a later mtime: the media must not carry it.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const second = await createAnswerMedia(files, { volumeLabel: "CIDATA", outPath: join(dir, "2.iso"), exec });
    assert.equal(first.sha256, second.sha256);
  });
});
