/**
 * The one reader of user-named files refuses every special file at once, whatever it is reached
 * through (a recipe path, a device manifest, a stack name), and never reads past its limit.
 * A FIFO with no writer or /dev/zero would hang or exhaust a naive reader: each case has a
 * time bound that fails it instead.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, symlink, truncate, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readDeviceManifest } from "../../src/devices/load-devices.ts";
import { planProject } from "../../src/recipe/plan-project.ts";
import { validatePaths } from "../../src/recipe/validate.ts";
import { loadStack, StackConfigError } from "../../src/stacks/load-stack.ts";
import { InputFileError, readInputFile } from "../../src/util/read-input.ts";

const BOUND = { timeout: 10_000 };
const repo = new URL("../..", import.meta.url).pathname;

describe("special files are refused at once, wherever they are named", () => {
  let dir: string;
  let server: Server;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "rebake-special-"));
    await mkdir(join(dir, "stacks"));
    execFileSync("mkfifo", [join(dir, "pipe.yaml")]);
    await symlink("/dev/zero", join(dir, "zero.yaml"));
    await symlink(join(dir, "pipe.yaml"), join(dir, "link-to-pipe.yaml"));
    await mkdir(join(dir, "folder.yaml"));
    await symlink(join(dir, "folder.yaml"), join(dir, "link-to-folder.yaml"));
    server = createServer();
    await new Promise<void>((resolve) => server.listen(join(dir, "socket.yaml"), resolve));
    // Claims 10 GiB without holding it: the size stat reports must not be trusted or read.
    await writeFile(join(dir, "sparse.yaml"), "");
    await truncate(join(dir, "sparse.yaml"), 10 * 1024 ** 3);
    execFileSync("mkfifo", [join(dir, "stacks", "Pulumi.pipe.yaml")]);
    await symlink("/dev/zero", join(dir, "stacks", "Pulumi.zero.yaml"));
    execFileSync("mkfifo", [join(dir, "devices.csv")]);
    await symlink("/dev/zero", join(dir, "zero.csv"));
  });
  after(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const files: ReadonlyArray<readonly [file: string, reason: InputFileError["reason"], rule: string, says: RegExp]> = [
    ["pipe.yaml", "not-a-file", "file-not-regular", /named pipe/],
    ["zero.yaml", "not-a-file", "file-not-regular", /character device/],
    ["link-to-pipe.yaml", "not-a-file", "file-not-regular", /named pipe/],
    ["folder.yaml", "not-a-file", "file-not-regular", /directory/],
    ["link-to-folder.yaml", "not-a-file", "file-not-regular", /directory/],
    ["socket.yaml", "not-a-file", "file-not-regular", /socket/],
    ["sparse.yaml", "too-large", "file-too-large", /larger than 1\.0 MiB/],
    ["missing.yaml", "not-found", "file-not-found", /no such file/],
  ];
  for (const [file, reason, rule, says] of files) {
    it(`readInputFile(${file}) fails with ${reason}`, BOUND, () => {
      assert.throws(() => readInputFile(join(dir, file), 1024 * 1024), (e: unknown) => e instanceof InputFileError && e.reason === reason && says.test(e.message));
    });
    it(`rebake plan ${file} reports ${rule} at 0:0`, BOUND, async () => {
      const result = await planProject(join(dir, file), { cwd: dir });
      assert.deepEqual(result.problems.map((p) => [p.file, p.rule, p.line, p.col]), [[file, rule, 0, 0]]);
      assert.match(result.problems[0]!.message, says);
    });
  }

  for (const [file, rule] of [["devices.csv", "file-not-regular"], ["zero.csv", "file-not-regular"]] as const) {
    it(`a device manifest ${file} reports ${rule} at 0:0`, BOUND, async () => {
      const { problems } = await readDeviceManifest(join(dir, file), file);
      assert.deepEqual(problems.map((p) => [p.file, p.rule, p.line, p.col]), [[file, rule, 0, 0]]);
    });
  }

  for (const stack of ["pipe", "zero"]) {
    it(`stack ${stack} (a ${stack === "pipe" ? "FIFO" : "link to /dev/zero"}) is a located stack problem`, BOUND, async () => {
      await assert.rejects(loadStack(dir, stack), (e: unknown) =>
        e instanceof StackConfigError && e.problems.length === 1 && e.problems[0]!.rule === "file-not-regular" && e.problems[0]!.line === 0 && e.problems[0]!.col === 0);
    });
  }

  it("a file that says it is empty (procfs) is read to its end, and still bounded", () => {
    assert.match(readInputFile("/proc/self/status", 1024 * 1024).toString("utf8"), /^Name:/);
    assert.throws(() => readInputFile("/proc/self/status", 16), (e: unknown) => e instanceof InputFileError && e.reason === "too-large");
  });

  it("a file exactly at the limit is read whole", () => {
    const path = join(dir, "at-limit.txt");
    execFileSync("sh", ["-c", `head -c 4096 /dev/zero > '${path}'`]);
    assert.equal(readInputFile(path, 4096).length, 4096);
    assert.throws(() => readInputFile(path, 4095), (e: unknown) => e instanceof InputFileError && e.reason === "too-large");
  });
});

describe("a script or input inside the project that is a special file", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "rebake-special-script-"));
    await cp(join(repo, "test/fixtures/valid"), dir, { recursive: true });
    execFileSync("mkfifo", [join(dir, "recipes", "pipe.sh")]);
    await symlink("/dev/zero", join(dir, "files", "zero.iso"));
    const recipe = await readFile(join(dir, "recipes/linux-pvs.yaml"), "utf8");
    await writeFile(join(dir, "recipes/linux-pvs.yaml"), recipe
      .replace("    path: ../files/test-os.iso\n", "    path: ../files/zero.iso\n")
      .replace("checks:\n", "steps:\n  - name: tune\n    after: apps\n    shell: sh\n    file: pipe.sh\nchecks:\n"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("is reported by validate at its key, without reading it", BOUND, async () => {
    const result = await validatePaths(["recipes/linux-pvs.yaml"], { cwd: dir });
    assert.deepEqual(result.problems.map((p) => `${p.file}:${p.line}:${p.col} ${p.rule}`), [
      // A link to /dev/zero leads outside the project: that is said first, and the file is not read.
      "recipes/linux-pvs.yaml:10:11 input-outside-project",
      "recipes/linux-pvs.yaml:49:11 input-not-file",
    ]);
  });
});
