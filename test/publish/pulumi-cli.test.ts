/**
 * Every way the Pulumi CLI can be unusable ends in rebake's install advice, never an exec error:
 * each case is a real `pulumi` on PATH (or none) run through the exec layer.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkPulumiCli } from "../../src/publish/pulumi-cli.ts";
import { createExec } from "../../src/util/exec.ts";

/** What the npm `pulumi` wrapper prints when it cannot fetch the engine at first use. */
const NPM_WRAPPER_DOWNLOAD_FAILS = `#!/bin/sh
echo "Error: failed to download the Pulumi CLI from https://get.pulumi.com/releases/sdk/pulumi-v3.140.0-linux-x64.tar.gz: getaddrinfo ENOTFOUND get.pulumi.com" >&2
exit 1
`;

describe("Pulumi CLI availability", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "rebake-pulumi-cli-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const cases: { name: string; script?: string; mode?: number; problem?: RegExp; said?: RegExp }[] = [
    { name: "works", script: "#!/bin/sh\necho v3.140.0\n" },
    { name: "not on PATH", problem: /the Pulumi CLI is not installed \(no 'pulumi' on PATH\)/ },
    { name: "the npm wrapper whose engine download fails", script: NPM_WRAPPER_DOWNLOAD_FAILS, problem: /'pulumi version' exited with code 1 \(the npm wrapper exits so when it cannot download the engine\)/, said: /ENOTFOUND get\.pulumi\.com/ },
    { name: "not executable", script: "#!/bin/sh\necho v3\n", mode: 0o644, problem: /the 'pulumi' on PATH is not executable/ },
    { name: "crashes", script: "#!/bin/sh\necho 'panic: runtime error' >&2\nkill -SEGV $$\n", problem: /the Pulumi CLI crashed \(killed by SIGSEGV\)/, said: /panic: runtime error/ },
  ];
  for (const [index, c] of cases.entries()) {
    it(`${c.name}: ${c.problem ? "install advice naming what went wrong" : "accepted"}`, async () => {
      const bin = join(dir, String(index));
      await mkdir(bin);
      if (c.script) {
        await writeFile(join(bin, "pulumi"), c.script);
        await chmod(join(bin, "pulumi"), c.mode ?? 0o755);
      }
      const check = checkPulumiCli(createExec(), { PATH: `${bin}:/usr/bin:/bin` });
      if (!c.problem) return assert.equal(await check, undefined);
      await assert.rejects(check, (error: Error) => {
        assert.equal(error.name, "PulumiUnavailableError");
        assert.match(error.message, c.problem!);
        if (c.said) assert.match(error.message, c.said);
        assert.match(error.message, /npm install --global pulumi/);
        assert.match(error.message, /get\.pulumi\.com \| sh/);
        assert.doesNotMatch(error.message, /CommandFailedError|exited with code 1\n/);
        return true;
      });
    });
  }
});
