/**
 * `rebake boot --stack <name>`: the boot settings of every PVS site of the stack. PXE sites get the
 * DHCP options 66/67 and the DNS round-robin records as a checklist; ISO and BDM sites get the
 * bootstrap login servers (with the Set-PvsServerBootstrap script) and the ISO to attach.
 */
import { rm } from "node:fs/promises";
import { makeOwnedDir } from "../../util/owned-dir.ts";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { formatSize, parseDuration, UnitError } from "../../cache/units.ts";
import { NetbootCheckError, netbootCheck } from "../../boot/netboot-check.ts";
import { createExec } from "../../util/exec.ts";
import { formatDuration } from "../progress/format.ts";
import { BootConfigError, checkBootConfig, planSiteBoot, type SiteBootPlan } from "../../boot/boot-plan.ts";
import { bootstrapScript } from "../../boot/bootstrap-script.ts";
import { loadStack } from "../../stacks/load-stack.ts";
import { parseCommandArgs } from "../args.ts";
import { ruleOf } from "../rule-of.ts";
import { EXIT, UsageError, type CliIo } from "../io.ts";

export const HELP = `usage: rebake boot --stack <name> [--script] [--json]
       rebake boot --netboot-check <vdisk.vhdx> [--timeout 4m] [--json]

Prints how the target devices of each PVS site of the stack find a PVS server (boot: in each site
of stacks/Pulumi.<name>.yaml): for pxe, the DHCP options 66 and 67 and the DNS round-robin
records to set; for iso and bdm, the bootstrap login servers and the boot ISO to attach.

--netboot-check boots a VM without a disk of its own from the network (QEMU's PXE, iPXE over
TFTP) into the vDisk streamed read-only over NBD, with a throwaway write cache, and waits for its
guest agent: the local proof that a published vDisk boots as a streamed disk.

options:
  --stack NAME   the stack
  --netboot-check FILE  run the network boot check on this VHDX
  --timeout DUR  how long the boot may take (default: 4m; QEMU runs without KVM here)
  --script       also print the Set-PvsServerBootstrap PowerShell of iso/bdm sites
  --json         { stack, sites: [...plans, script] }
  --help         show this help
`;

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(args, { stack: { type: "string" }, script: { type: "boolean" }, "netboot-check": { type: "string" }, timeout: { type: "string" } }, 0);
  if (values.help) {
    io.stdout(HELP);
    return EXIT.ok;
  }
  if (values["netboot-check"]) return runNetbootCheck(values["netboot-check"], values.timeout, Boolean(values.json), io);
  if (!values.stack) throw new UsageError(`--stack is required`);
  const stack = await loadStack(io.cwd, values.stack);
  if (!stack.pvs) throw new UsageError(`${stack.file} has no rebake:pvs section; boot settings are for PVS sites`);
  const problems = stack.pvs.sites.flatMap((site) => (site.boot ? checkBootConfig(site.name, site.boot, stack.file) : []));
  if (problems.length) throw new BootConfigError(problems);
  const connection = { server: stack.pvs.server, port: stack.pvs.port };
  const plans = stack.pvs.sites.map((site) => (site.boot ? planSiteBoot(site, site.boot) : undefined));
  const scriptOf = (plan: SiteBootPlan) => (plan.method === "pxe" ? undefined : bootstrapScript(plan, connection));
  if (values.json) {
    const sites = stack.pvs.sites.map((site, i) => {
      const plan = plans[i];
      return plan ? { ...plan, ...(scriptOf(plan) ? { script: scriptOf(plan) } : {}) } : { site: site.name, method: null };
    });
    io.stdout(`${JSON.stringify({ stack: stack.stack, sites }, null, 2)}\n`);
    return EXIT.ok;
  }
  stack.pvs.sites.forEach((site, i) => {
    const plan = plans[i];
    if (!plan) {
      io.stdout(`${site.name}: no boot settings in ${stack.file} (add boot: with method pxe, iso or bdm)\n\n`);
      return;
    }
    io.stdout(`${site.name} (${plan.method}):\n${plan.checklist.map((line) => `  [ ] ${line}\n`).join("")}`);
    const script = scriptOf(plan);
    if (values.script && script) io.stdout(`\n${script.replace(/\r\n/g, "\n")}`);
    io.stdout("\n");
  });
  return EXIT.ok;
}

/** The default boot allowance: the test OS boots in about a minute under TCG. */
const DEFAULT_NETBOOT_TIMEOUT = "4m";

async function runNetbootCheck(vdisk: string, timeout: string | undefined, json: boolean, io: CliIo): Promise<number> {
  let bootTimeoutMs: number;
  try {
    bootTimeoutMs = parseDuration(timeout ?? DEFAULT_NETBOOT_TIMEOUT);
  } catch (error) {
    if (error instanceof UnitError) throw new UsageError(`--timeout: ${error.message}`);
    throw error;
  }
  const workDir = await makeOwnedDir(tmpdir(), "rebake-netboot-");
  try {
    const result = await netbootCheck({ vdisk: isAbsolute(vdisk) ? vdisk : join(io.cwd, vdisk), workDir, exec: createExec(), bootTimeoutMs, signal: io.signal });
    if (json) io.stdout(`${JSON.stringify({ vdisk, passed: true, ...result }, null, 2)}\n`);
    else io.stdout(`${vdisk}: network boot OK in ${formatDuration(result.bootMs)}: iPXE fetched its script over TFTP and booted the vDisk streamed read-only; the guest agent answered; ${formatSize(result.writeCacheBytes)} went to the throwaway write cache; the vDisk is unchanged (sha256 ${result.vdiskSha256.slice(0, 12)})\n`);
    return EXIT.ok;
  } catch (error) {
    if (!(error instanceof NetbootCheckError)) throw error;
    if (json) io.stdout(`${JSON.stringify({ vdisk, passed: false, error: error.message }, null, 2)}\n`);
    else io.stderr(`rebake boot: ${ruleOf(error)}  ${error.message}\n`);
    return EXIT.failed;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
