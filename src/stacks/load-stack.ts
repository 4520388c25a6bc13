/**
 * Loads `stacks/Pulumi.<stack>.yaml` with the `yaml` package (positions kept), checks it against
 * the stack shape and the cross-field rules, and returns a typed StackConfig. Every problem is
 * collected; a file with any error throws one StackConfigError listing them all.
 */
import { join, relative } from "node:path";
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from "yaml";
import type { Problem } from "../recipe/problem.ts";
import { formatProblem } from "../recipe/format-problems.ts";
import { firstSelfAlias, MAX_ALIAS_EXPANSIONS } from "../recipe/load.ts";
import { findLiteralSecrets, URL_CREDENTIALS } from "../recipe/secret-patterns.ts";
import { stringLeaves } from "../recipe/string-leaves.ts";
import { suggest } from "../recipe/suggest.ts";
import { InputFileError, inputFileRule, readInputFile } from "../util/read-input.ts";
import { checkShape, isMapping, type ShapeProblem } from "./shape.ts";
import { CONFIG_NAMESPACE, STACK_FILE_KEYS, STACK_CONFIG_FIELDS, hypervisorShape } from "./stack-shape.ts";
import {
  DEFAULT_PVS_PORT,
  DEFAULT_REBOOT_WARNING_MINUTES,
  DEFAULT_ROLLING_REBOOT_MINUTES,
  DEFAULT_SSH_PORT,
  defaultManifestPath,
  type HypervisorConnection,
  type McsConfig,
  type PvsConfig,
  type PowerShellExecutorConfig,
  type StackConfig,
  WINRM_PORTS,
} from "./model.ts";

/** Where stack files live (Pulumi.yaml `stackConfigDir`). */
export const STACKS_DIR = "stacks";

export class StackConfigError extends Error {
  constructor(readonly file: string, readonly problems: readonly Problem[]) {
    super(`${file} has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n${problems.map(formatProblem).join("\n")}`);
    this.name = new.target.name;
  }
}

/** Stack files are a few KiB. */
export const MAX_STACK_FILE_BYTES = 1024 * 1024;

/** Pulumi's own rule for stack names: letters, digits, hyphens, underscores and periods. */
const STACK_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$/;

/** A stack name that is not one (`x/../../devices/lyon` would reach outside stacks/). */
export class StackNameError extends Error {
  readonly rule = "stack-name";
  constructor(readonly stackName: string) {
    super(`${JSON.stringify(stackName)} is not a stack name: a stack name is 1 to 100 letters, digits, hyphens, underscores or periods (no slashes), naming stacks/Pulumi.<name>.yaml`);
    this.name = new.target.name;
  }
}

export class StackNotFoundError extends Error {
  constructor(readonly stackName: string, readonly file: string, available: readonly string[]) {
    super(`no stack file ${file} for stack '${stackName}'${available.length ? ` (stacks: ${available.join(", ")})` : ""}; create it or pick an existing stack`);
    this.name = new.target.name;
  }
}

export function stackFile(root: string, stack: string): string {
  if (!STACK_NAME.test(stack) || stack === "." || stack === "..") throw new StackNameError(stack);
  return join(root, STACKS_DIR, `Pulumi.${stack}.yaml`);
}

/** Reads and validates one stack of the project at `root`. */
export async function loadStack(root: string, stack: string): Promise<StackConfig> {
  const path = stackFile(root, stack);
  const file = relative(root, path) || path;
  let text: string;
  try {
    text = readInputFile(path, MAX_STACK_FILE_BYTES).toString("utf8");
  } catch (error) {
    if (!(error instanceof InputFileError)) throw error;
    if (error.reason === "not-found") {
      const { listStacks } = await import("./list-stacks.ts");
      throw new StackNotFoundError(stack, file, await listStacks(root));
    }
    const { rule, hint } = inputFileRule(error);
    throw new StackConfigError(file, [{ file, line: 0, col: 0, rule, severity: "error", message: error.message, hint }]);
  }
  return parseStack(text, file, stack);
}

/** Validates stack file text; `file` is how problems name it. */
export function parseStack(text: string, file: string, stack: string): StackConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const problems: Problem[] = [];
  const at = (offset: number) => lines.linePos(offset);
  for (const error of doc.errors) {
    const pos = at(error.pos[0]);
    problems.push({ file, line: pos.line, col: pos.col, rule: "yaml-syntax", severity: "error", message: error.message.split("\n")[0] ?? error.message, hint: "fix the YAML syntax" });
  }
  const loop = firstSelfAlias(doc);
  if (loop) {
    const pos = at(loop.range?.[0] ?? 0);
    problems.push({ file, line: pos.line, col: pos.col, rule: "yaml-alias-cycle", severity: "error", message: `alias *${loop.source} lies inside the value anchored as &${loop.source}, so the value would contain itself without end`, got: `*${loop.source}`, hint: "write the value out" });
  }
  if (problems.length) throw new StackConfigError(file, problems);

  let root: unknown;
  try {
    root = doc.toJS({ maxAliasCount: MAX_ALIAS_EXPANSIONS });
  } catch {
    throw new StackConfigError(file, [{ file, line: 1, col: 1, rule: "yaml-alias-limit", severity: "error", message: `aliases expand to more than ${MAX_ALIAS_EXPANSIONS} nodes`, hint: "write the values out" }]);
  }
  const shapeProblems = checkStackValue(root);
  for (const p of shapeProblems) {
    const pos = locate(doc, lines, p.pointer, p.part);
    problems.push({ file, line: pos.line, col: pos.col, rule: p.rule, severity: "error", message: p.message, ...(p.got !== undefined ? { got: p.got } : {}), ...(p.hint ? { hint: p.hint } : {}), pointer: p.pointer });
  }
  if (problems.length) throw new StackConfigError(file, problems);
  return toStackConfig((root as { config: Record<string, unknown> }).config, stack, file);
}

/** Shape and cross-field problems of the whole parsed file. */
export function checkStackValue(root: unknown): ShapeProblem[] {
  if (!isMapping(root)) {
    return [{ pointer: "", part: "value", rule: "stack-type", message: "a stack file must be a mapping with a config: key", got: root, hint: "start the file with config:" }];
  }
  const problems: ShapeProblem[] = urlCredentialProblems(root);
  for (const key of Object.keys(root)) {
    if (!STACK_FILE_KEYS.includes(key)) {
      const near = suggest(key, STACK_FILE_KEYS);
      problems.push({ pointer: `/${key}`, part: "key", rule: "stack-unknown-key", message: `unknown top-level key ${key}`, got: key, hint: near ? `did you mean '${near}'?` : `a stack file holds ${STACK_FILE_KEYS.join(", ")}` });
    }
  }
  const config = root.config;
  if (!isMapping(config)) {
    problems.push({ pointer: config === undefined ? "" : "/config", part: "value", rule: "stack-required", message: "config must be a mapping of rebake:<key> settings", got: config, hint: "add config: with rebake:target, rebake:image and rebake:hypervisor" });
    return problems;
  }
  // Keys of other namespaces (vsphere:, xenorchestra:) configure providers, not rebake.
  const ours: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (key.startsWith(`${CONFIG_NAMESPACE}:`)) ours[key.slice(CONFIG_NAMESPACE.length + 1)] = value;
    else if (!key.includes(":")) {
      const near = suggest(key, Object.keys(STACK_CONFIG_FIELDS));
      problems.push({ pointer: `/config/${key}`, part: "key", rule: "stack-unknown-key", message: `config key ${key} has no namespace`, got: key, hint: `write it as ${CONFIG_NAMESPACE}:${near ?? key}` });
    }
  }
  const fieldProblems = checkShape(ours, { type: "object", fields: STACK_CONFIG_FIELDS }, "", CONFIG_NAMESPACE).map((p) => ({
    ...p,
    // The checker sees `{target: ...}`; the file says `config: {rebake:target: ...}`.
    pointer: p.pointer === "" ? "/config" : `/config/${CONFIG_NAMESPACE}:${p.pointer.slice(1)}`,
    message: namespaced(p.message),
    ...(p.hint ? { hint: namespaced(p.rule === "stack-unknown-key" && p.pointer.lastIndexOf("/") === 0 ? p.hint.replace("'", `'${CONFIG_NAMESPACE}:`) : p.hint) } : {}),
  }));
  problems.push(...fieldProblems);
  if (fieldProblems.length === 0) problems.push(...crossFieldProblems(ours));
  return problems;
}

/** `smb://user:password@host/share` anywhere in the file: a literal secret in git. */
function urlCredentialProblems(root: unknown): ShapeProblem[] {
  return stringLeaves(root).flatMap(({ pointer, text }) =>
    findLiteralSecrets(text, [URL_CREDENTIALS]).map(({ shown }): ShapeProblem => ({
      pointer, part: "value", rule: "stack-secret-literal", message: "a URL holds a user and password; a stack file lives in git", got: shown,
      hint: "leave them out of the URL: give the store a username and password: env:NAME (or pulumi:key)",
    })),
  );
}

/** The checker names nested keys `rebake.image.version`; the file spells them `rebake:image.version`. */
function namespaced(text: string): string {
  return text.replaceAll(`${CONFIG_NAMESPACE}.`, `${CONFIG_NAMESPACE}:`);
}

const SECRET_REF = /^(env:[A-Za-z_][A-Za-z0-9_]*|pulumi:[A-Za-z0-9_.:-]+)$/;

/** Rules that span keys: the target's section is present, credentials are references. */
function crossFieldProblems(config: Record<string, unknown>): ShapeProblem[] {
  const problems: ShapeProblem[] = [];
  const target = config.target as string;
  const other = target === "pvs" ? "mcs" : "pvs";
  if (config[target] === undefined) {
    problems.push({ pointer: "/config", part: "value", rule: "stack-required", message: `target ${target} needs ${CONFIG_NAMESPACE}:${target}`, got: target, hint: `add the ${CONFIG_NAMESPACE}:${target} section, or change ${CONFIG_NAMESPACE}:target` });
  }
  if (config[other] !== undefined) {
    problems.push({ pointer: `/config/${CONFIG_NAMESPACE}:${other}`, part: "key", rule: "stack-target-mismatch", message: `${CONFIG_NAMESPACE}:${other} is set but the target is ${target}`, got: other, hint: `remove ${CONFIG_NAMESPACE}:${other}, or set ${CONFIG_NAMESPACE}:target: ${other}` });
  }
  const hypervisor = config.hypervisor as Record<string, unknown>;
  if (target === "mcs" && hypervisor.kind === "qemu") {
    problems.push({ pointer: `/config/${CONFIG_NAMESPACE}:hypervisor/kind`, part: "value", rule: "stack-mcs-hypervisor", message: "MCS catalogs run on vSphere or Xen Orchestra, not on the local QEMU", got: "qemu", hint: "use kind: vsphere or kind: xenorchestra" });
  }
  const secretAt = (pointer: string, value: unknown) => {
    if (typeof value === "string" && !SECRET_REF.test(value)) {
      problems.push({ pointer, part: "value", rule: "stack-secret-literal", message: "a credential must be a secret reference, not the value", got: "[redacted]", hint: "write env:NAME (an environment variable) or pulumi:key (a Pulumi stack secret)" });
    }
  };
  secretAt(`/config/${CONFIG_NAMESPACE}:hypervisor/${hypervisor.kind === "vsphere" ? "password" : "token"}`, hypervisor.password ?? hypervisor.token);
  problems.push(...hypervisorProblems(hypervisor, `/config/${CONFIG_NAMESPACE}:hypervisor`));
  const mcs = config.mcs as { via?: string; cvad?: { token?: unknown }; powershell?: { executor?: { password?: unknown } }; catalogs?: { name: string }[] } | undefined;
  if (mcs?.cvad) secretAt(`/config/${CONFIG_NAMESPACE}:mcs/cvad/token`, mcs.cvad.token);
  if (mcs) problems.push(...mcsViaProblems(mcs));
  secretAt(`/config/${CONFIG_NAMESPACE}:mcs/powershell/executor/password`, mcs?.powershell?.executor?.password);
  secretAt(`/config/${CONFIG_NAMESPACE}:pvs/executor/password`, (config.pvs as { executor?: { password?: unknown } } | undefined)?.executor?.password);
  problems.push(...duplicates(mcs?.catalogs ?? [], `/config/${CONFIG_NAMESPACE}:mcs/catalogs`, "catalog"));
  const pvs = config.pvs as { sites?: { name: string; store: { location: string; password?: unknown; username?: unknown } }[] } | undefined;
  pvs?.sites?.forEach((site, index) => {
    const pointer = `/config/${CONFIG_NAMESPACE}:pvs/sites/${index}/store`;
    secretAt(`${pointer}/password`, site.store.password);
    if (site.store.location.startsWith("smb:") && !/^smb:\/\/[^/\s]+\/[^/\s]+/.test(site.store.location)) {
      problems.push({ pointer: `${pointer}/location`, part: "value", rule: "stack-format", message: "an smb store location is smb://host[:port]/share[/path]", got: site.store.location, hint: "e.g. smb://pvs01.corp.example/vDisks/ws2022" });
    }
    if (site.store.password !== undefined && site.store.username === undefined) {
      problems.push({ pointer, part: "value", rule: "stack-required", message: `site ${site.name}: a store password needs a username`, hint: "add username: under store, or remove password for guest access" });
    }
  });
  problems.push(...duplicates(pvs?.sites ?? [], `/config/${CONFIG_NAMESPACE}:pvs/sites`, "site"));
  return problems;
}

/** The section of the way MCS publishes is there, the other one is not. */
function mcsViaProblems(mcs: { via?: string; cvad?: unknown; powershell?: unknown }): ShapeProblem[] {
  const via = mcs.via ?? "rest";
  const [needed, unused] = via === "powershell" ? (["powershell", "cvad"] as const) : (["cvad", "powershell"] as const);
  const pointer = `/config/${CONFIG_NAMESPACE}:mcs`;
  const problems: ShapeProblem[] = [];
  if (mcs[needed] === undefined) {
    problems.push({ pointer, part: "value", rule: "stack-required", message: `mcs via ${via} needs mcs.${needed}`, got: via, hint: via === "powershell" ? "add powershell: with adminAddress (the Delivery Controller) and executor (where the script runs)" : "add cvad: with url, customerId, siteId and token, or set via: powershell for an on-premises site" });
  }
  if (mcs[unused] !== undefined) {
    problems.push({ pointer: `${pointer}/${unused}`, part: "key", rule: "stack-mcs-via", message: `mcs.${unused} is not used when mcs via is ${via}`, got: unused, hint: `remove mcs.${unused}, or set via: ${unused === "cvad" ? "rest" : "powershell"}` });
  }
  return problems;
}

/** Rules inside the hypervisor block: the guest channel's password is a reference, and fits the driver. */
function hypervisorProblems(hypervisor: Record<string, unknown>, pointer: string): ShapeProblem[] {
  const problems: ShapeProblem[] = [];
  const guest = hypervisor.guest as { kind: string; password?: unknown } | undefined;
  if (!guest) return problems;
  if (typeof guest.password === "string" && !SECRET_REF.test(guest.password)) {
    problems.push({ pointer: `${pointer}/guest/password`, part: "value", rule: "stack-secret-literal", message: "a credential must be a secret reference, not the value", got: "[redacted]", hint: "write env:NAME (an environment variable) or pulumi:key (a Pulumi stack secret)" });
  }
  const fits: Readonly<Record<string, readonly string[]>> = { qemu: ["qga"], vsphere: ["vmware-tools", "winrm", "ssh"], xenorchestra: ["ssh", "winrm"] };
  const allowed = fits[hypervisor.kind as string] ?? [];
  if (!allowed.includes(guest.kind)) {
    problems.push({ pointer: `${pointer}/guest/kind`, part: "value", rule: "stack-guest-channel", message: `guest.kind ${guest.kind} does not work with the ${String(hypervisor.kind)} driver`, got: guest.kind, hint: `use one of ${allowed.join(", ")}` });
  }
  return problems;
}

/**
 * Validates a `--hypervisor-config` file: the `rebake:hypervisor` block of a stack on its own,
 * checked by the same shape and rules, problems at file:line:col.
 */
export function parseHypervisorConfig(text: string, file: string): HypervisorConnection {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const problems: Problem[] = doc.errors.map((error) => {
    const pos = lines.linePos(error.pos[0]);
    return { file, line: pos.line, col: pos.col, rule: "yaml-syntax", severity: "error" as const, message: error.message.split("\n")[0] ?? error.message, hint: "fix the YAML syntax" };
  });
  if (problems.length) throw new StackConfigError(file, problems);
  const value: unknown = doc.toJS();
  let shapeProblems = checkShape(value, hypervisorShape(), "", "hypervisor");
  if (shapeProblems.length === 0) {
    const hypervisor = value as Record<string, unknown>;
    const credential = hypervisor.kind === "vsphere" ? "password" : "token";
    if (typeof hypervisor[credential] === "string" && !SECRET_REF.test(hypervisor[credential])) {
      shapeProblems.push({ pointer: `/${credential}`, part: "value", rule: "stack-secret-literal", message: "a credential must be a secret reference, not the value", got: "[redacted]", hint: "write env:NAME (an environment variable) or pulumi:key (a Pulumi stack secret)" });
    }
    shapeProblems = [...shapeProblems, ...hypervisorProblems(hypervisor, "")];
  }
  for (const p of shapeProblems) {
    const pos = locate(doc, lines, p.pointer, p.part);
    problems.push({ file, line: pos.line, col: pos.col, rule: p.rule, severity: "error", message: p.message, ...(p.got !== undefined ? { got: p.got } : {}), ...(p.hint ? { hint: p.hint } : {}), pointer: p.pointer });
  }
  if (problems.length) throw new StackConfigError(file, problems);
  const hypervisor = value as HypervisorConnection & { insecure?: boolean };
  return hypervisor.kind === "qemu" ? hypervisor : { ...hypervisor, insecure: hypervisor.insecure ?? false };
}

function duplicates(items: readonly { name: string }[], pointer: string, what: string): ShapeProblem[] {
  const seen = new Set<string>();
  return items.flatMap((item, index) => {
    if (!seen.has(item.name)) {
      seen.add(item.name);
      return [];
    }
    return [{ pointer: `${pointer}/${index}/name`, part: "value" as const, rule: "stack-duplicate", message: `two ${what}s are named ${item.name}`, got: item.name, hint: `give each ${what} its own name` }];
  });
}

type ExecutorInput =
  | { kind: "local" }
  | { kind: "ssh"; host: string; user: string; port?: number; identityFile?: string }
  | { kind: "winrm"; host: string; user: string; password: string; https?: boolean; port?: number; caPath?: string };

/** WinRM defaults to https: Basic authentication sends the password with every request. */
function executorWithDefaults(executor: ExecutorInput): PowerShellExecutorConfig {
  switch (executor.kind) {
    case "local":
      return { kind: "local" };
    case "ssh":
      return { ...executor, port: executor.port ?? DEFAULT_SSH_PORT };
    case "winrm": {
      const https = executor.https ?? true;
      return { ...executor, https, port: executor.port ?? WINRM_PORTS[https ? "https" : "http"] };
    }
  }
}

function withoutPowerShell<T extends { powershell?: unknown }>({ powershell: _, ...rest }: T): Omit<T, "powershell"> {
  return rest;
}

/** Applies defaults to a valid config. */
function toStackConfig(config: Record<string, unknown>, stack: string, file: string): StackConfig {
  const get = (key: string) => config[`${CONFIG_NAMESPACE}:${key}`] as never;
  const image = get("image") as { recipe: string; version: string; manifest?: string };
  const hypervisor = get("hypervisor") as HypervisorConnection & { insecure?: boolean };
  const mcs = get("mcs") as (Omit<McsConfig, "catalogs" | "via" | "powershell"> & { via?: McsConfig["via"]; powershell?: { adminAddress: string; executor: ExecutorInput }; catalogs: Partial<McsConfig["catalogs"][number]>[] }) | undefined;
  const pvs = get("pvs") as (Omit<PvsConfig, "port" | "executor"> & { port?: number; executor: ExecutorInput }) | undefined;
  return {
    stack,
    file,
    target: get("target"),
    image: { recipe: image.recipe, version: image.version, manifest: image.manifest ?? defaultManifestPath(image.recipe, image.version) },
    hypervisor: hypervisor.kind === "qemu" ? hypervisor : { ...hypervisor, insecure: hypervisor.insecure ?? false },
    ...(mcs
      ? {
          mcs: {
            ...withoutPowerShell(mcs),
            via: mcs.via ?? "rest",
            ...(mcs.powershell ? { powershell: { adminAddress: mcs.powershell.adminAddress, executor: executorWithDefaults(mcs.powershell.executor) } } : {}),
            catalogs: mcs.catalogs.map((c) => ({
              ...(c as McsConfig["catalogs"][number]),
              reboot: c.reboot ?? "rolling",
              rebootWarningMinutes: c.rebootWarningMinutes ?? DEFAULT_REBOOT_WARNING_MINUTES,
              rebootDurationMinutes: c.rebootDurationMinutes ?? DEFAULT_ROLLING_REBOOT_MINUTES,
            })),
          },
        }
      : {}),
    ...(pvs
      ? {
          pvs: {
            ...pvs,
            port: pvs.port ?? DEFAULT_PVS_PORT,
            executor: executorWithDefaults(pvs.executor),
          },
        }
      : {}),
  };
}

/** Position of the node at a JSON pointer, falling back to the nearest parent that exists. */
function locate(doc: Document, lines: LineCounter, pointer: string, part: "key" | "value"): { line: number; col: number } {
  const segments = pointer === "" ? [] : pointer.slice(1).split("/").map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
  let node: unknown = doc.contents;
  let keyNode: unknown;
  for (const segment of segments) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === segment);
      if (!pair) break;
      keyNode = pair.key;
      node = pair.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(segment)];
      if (item === undefined) break;
      keyNode = item;
      node = item;
    } else break;
  }
  const target = (part === "key" && keyNode ? keyNode : node ?? keyNode) as Node | undefined;
  const offset = target?.range?.[0] ?? 0;
  const pos = lines.linePos(offset);
  return { line: pos.line, col: pos.col };
}
