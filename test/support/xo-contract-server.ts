/**
 * A local Xen Orchestra REST server (/rest/v0) for contract tests: implements the endpoints the
 * driver uses, as XO's REST documentation (packages/xo-server/docs/rest-api.md and the
 * @xen-orchestra/rest-api controllers) describes them, and validates every request: method, path,
 * the authenticationToken cookie and the body shape. Anything else is recorded as a violation
 * and answered 400/404, so a test fails on the first request XO would not accept.
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface XoContractState {
  readonly pools: { id: string; name_label: string }[];
  readonly templates: { id: string; name_label: string }[];
  readonly srs: { id: string; name_label: string }[];
  readonly vms: Map<string, { id: string; name_label: string; power_state: "Running" | "Halted"; $VBDs: string[]; memory: number; template: string }>;
  readonly vbds: Map<string, { id: string; VM: string; VDI: string; is_cd_drive: boolean; bootable: boolean }>;
  readonly vdis: Map<string, { id: string; name_label: string; $SR: string; content: Buffer }>;
  readonly snapshots: Map<string, { id: string; name_label: string; vm: string }>;
  readonly tasks: Map<string, { id: string; status: "pending" | "success" | "failure"; result?: unknown; polls: number }>;
}

export interface XoContractServer {
  readonly url: string;
  readonly token: string;
  readonly state: XoContractState;
  /** Requests XO would have refused; a passing contract test leaves this empty. */
  readonly violations: string[];
  /** Every request as "METHOD path". */
  readonly requests: string[];
  /** The next VDI import is cut after this many bytes (a broken upload). */
  breakNextUploadAfter(bytes: number): void;
  /** Guests of new VMs never power off by themselves unless told. */
  powerOffFromGuest(vmId: string): void;
  close(): Promise<void>;
}

const UUID = "[0-9a-f-]{36}";
/** Tasks answer "pending" this many times before they settle, so clients must poll. */
const PENDING_POLLS = 1;
/** The VHD a template's disk holds: a footer cookie is enough to tell it from other content. */
export const TEMPLATE_DISK_CONTENT = Buffer.concat([Buffer.alloc(4096, 0x5a), Buffer.from("conectix")]);

export async function startXoContractServer(): Promise<XoContractServer> {
  const token = randomUUID();
  const state: XoContractState = {
    pools: [{ id: randomUUID(), name_label: "lab-pool" }],
    templates: [{ id: randomUUID(), name_label: "Windows Server 2022 (64-bit)" }],
    srs: [{ id: randomUUID(), name_label: "ISO library" }],
    vms: new Map(),
    vbds: new Map(),
    vdis: new Map(),
    snapshots: new Map(),
    tasks: new Map(),
  };
  const violations: string[] = [];
  const requests: string[] = [];
  let breakAfter: number | undefined;

  const task = (result: unknown, failure = false): string => {
    const id = Math.random().toString(36).slice(2, 11);
    state.tasks.set(id, { id, status: failure ? "failure" : "success", result, polls: 0 });
    return `/rest/v0/tasks/${id}`;
  };

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const route = `${req.method} ${url.pathname}`;
    requests.push(`${route}${url.search}`);
    const reply = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(body === undefined ? "" : JSON.stringify(body));
    };
    const refuse = (status: number, why: string) => {
      violations.push(`${route}: ${why}`);
      reply(status, { error: why });
    };
    const accepted = (href: string) => reply(202, href, { location: href });

    if (req.headers.cookie !== `authenticationToken=${token}`) {
      // Not a violation: a bad token is a legitimate request XO answers with 401.
      reply(401, { error: "unauthorized" });
      req.resume();
      return;
    }

    const isUpload = req.method === "POST" && new RegExp(`^/rest/v0/srs/${UUID}/vdis$`).test(url.pathname);
    let raw: Buffer;
    try {
      raw = await readBody(req, isUpload ? breakAfter : undefined);
    } catch {
      breakAfter = undefined;
      res.destroy();
      return;
    }
    if (isUpload) breakAfter = undefined;
    let json: Record<string, unknown> = {};
    if (!isUpload && raw.length > 0) {
      if (req.headers["content-type"] !== "application/json") return refuse(400, `body without content-type application/json`);
      try {
        json = JSON.parse(raw.toString()) as Record<string, unknown>;
      } catch {
        return refuse(400, "body is not JSON");
      }
    }
    let match: RegExpExecArray | null;

    if (req.method === "GET" && (match = /^\/rest\/v0\/(pools|vm-templates|srs|vdis)$/.exec(url.pathname))) {
      const fields = url.searchParams.get("fields");
      if (!fields) return refuse(400, "collections are listed with ?fields= so objects come back instead of URLs");
      const objects =
        match[1] === "pools" ? state.pools : match[1] === "vm-templates" ? state.templates : match[1] === "srs" ? state.srs : [...state.vdis.values()];
      return reply(200, objects.map((object) => pick(object as Record<string, unknown>, fields.split(","), `/rest/v0/${match![1]}`)));
    }
    if (req.method === "POST" && (match = new RegExp(`^/rest/v0/pools/(${UUID})/actions/create_vm$`).exec(url.pathname))) {
      if (!state.pools.some((p) => p.id === match![1])) return refuse(404, "no such pool");
      const problems = shape(json, { name_label: "string", template: "string" }, { name_description: "string", memory: "number", boot: "boolean", clone: "boolean", affinity: "string", install: "object" });
      if (problems) return refuse(400, problems);
      const template = json.template as string;
      const fromSnapshot = state.snapshots.get(template);
      if (!fromSnapshot && !state.templates.some((t) => t.id === template)) return refuse(404, `no template or snapshot ${template}`);
      const id = randomUUID();
      const disk = randomUUID();
      const vbd = randomUUID();
      state.vdis.set(disk, { id: disk, name_label: `${json.name_label} disk`, $SR: "local", content: TEMPLATE_DISK_CONTENT });
      state.vbds.set(vbd, { id: vbd, VM: id, VDI: disk, is_cd_drive: false, bootable: true });
      state.vms.set(id, { id, name_label: json.name_label as string, power_state: "Halted", $VBDs: [vbd], memory: (json.memory as number | undefined) ?? 0, template });
      return accepted(task(id));
    }
    if ((match = new RegExp(`^/rest/v0/vms/(${UUID})/actions/(\\w+)$`).exec(url.pathname))) {
      if (req.method !== "POST") return refuse(405, "actions are started with POST");
      const vm = state.vms.get(match[1]!);
      if (!vm) return refuse(404, "no such VM");
      const action = match[2]!;
      switch (action) {
        case "start":
          if (vm.power_state !== "Halted") return accepted(task({ message: `VM_BAD_POWER_STATE(${vm.power_state})` }, true));
          vm.power_state = "Running";
          return accepted(task(null));
        case "clean_shutdown":
        case "hard_shutdown":
          if (vm.power_state !== "Running") return accepted(task({ message: `VM_BAD_POWER_STATE(${vm.power_state})` }, true));
          vm.power_state = "Halted";
          return accepted(task(null));
        case "snapshot": {
          const problems = shape(json, {}, { name_label: "string" });
          if (problems) return refuse(400, problems);
          const id = randomUUID();
          state.snapshots.set(id, { id, name_label: (json.name_label as string | undefined) ?? vm.name_label, vm: vm.id });
          return accepted(task(id));
        }
        default:
          return refuse(404, `no action ${action} on VMs (start, clean_shutdown, hard_shutdown, clean_reboot, hard_reboot, snapshot)`);
      }
    }
    if ((match = new RegExp(`^/rest/v0/vms/(${UUID})$`).exec(url.pathname))) {
      const vm = state.vms.get(match[1]!);
      if (!vm) return reply(404, { error: "no such object" });
      if (req.method === "GET") return reply(200, { ...vm, type: "VM", href: url.pathname });
      if (req.method === "DELETE") {
        if (vm.power_state !== "Halted") return refuse(400, "VM_BAD_POWER_STATE: destroy needs a halted VM");
        for (const vbd of vm.$VBDs) {
          const record = state.vbds.get(vbd);
          if (record && !record.is_cd_drive) state.vdis.delete(record.VDI);
          state.vbds.delete(vbd);
        }
        state.vms.delete(vm.id);
        return reply(204);
      }
      return refuse(405, "VMs take GET and DELETE");
    }
    // DELETE /rest/v0/vm-snapshots/<uuid> destroys the snapshot (vatesfr/xen-orchestra,
    // packages/xo-server/src/xo-mixins/rest-api.mjs: api.delete('/:collection(vdis|vdi-snapshots|vms|
    // vm-snapshots|vm-templates)/:object') -> xapiObject.$destroy()). Deleting a VM leaves its
    // snapshots (XAPI VM.destroy removes the VM alone); rest-api.mjs itself says nothing about them.
    if ((match = new RegExp(`^/rest/v0/vm-snapshots/(${UUID})$`).exec(url.pathname)) && req.method === "DELETE") {
      if (!state.snapshots.delete(match[1]!)) return reply(404, { error: "no such object" });
      return reply(200);
    }
    if (url.pathname === "/rest/v0/vbds" && req.method === "POST") {
      const problems = shape(json, { vm: "string", vdi: "string" }, { bootable: "boolean", mode: "string" });
      if (problems) return refuse(400, problems);
      if (json.mode !== undefined && json.mode !== "RO" && json.mode !== "RW") return refuse(400, `mode must be RO or RW, got ${String(json.mode)}`);
      const vm = state.vms.get(json.vm as string);
      const vdi = state.vdis.get(json.vdi as string);
      if (!vm || !vdi) return refuse(404, "no such VM or VDI");
      const id = randomUUID();
      state.vbds.set(id, { id, VM: vm.id, VDI: vdi.id, is_cd_drive: state.srs.some((sr) => sr.id === vdi.$SR), bootable: json.bootable === true });
      vm.$VBDs.push(id);
      return reply(201, { id }, { location: `/rest/v0/vbds/${id}` });
    }
    if ((match = new RegExp(`^/rest/v0/vbds/(${UUID})$`).exec(url.pathname))) {
      const vbd = state.vbds.get(match[1]!);
      if (!vbd) return reply(404, { error: "no such object" });
      if (req.method === "GET") return reply(200, { ...vbd, type: "VBD" });
      if (req.method === "DELETE") {
        state.vbds.delete(vbd.id);
        const vm = state.vms.get(vbd.VM);
        if (vm) vm.$VBDs = vm.$VBDs.filter((id) => id !== vbd.id);
        return reply(204);
      }
      return refuse(405, "VBDs take GET and DELETE");
    }
    if (isUpload) {
      const sr = url.pathname.split("/")[4]!;
      if (!state.srs.some((s) => s.id === sr)) return refuse(404, "no such SR");
      if (!url.searchParams.has("raw")) return refuse(400, "an ISO is imported raw: the raw query parameter is required");
      const label = url.searchParams.get("name_label");
      if (!label) return refuse(400, "name_label query parameter missing");
      if (req.headers["content-length"] !== String(raw.length)) return refuse(400, `content-length ${req.headers["content-length"]} differs from the ${raw.length} bytes received`);
      const id = randomUUID();
      state.vdis.set(id, { id, name_label: label, $SR: sr, content: raw });
      return reply(200, id);
    }
    if ((match = new RegExp(`^/rest/v0/vdis/(${UUID})(\\.vhd)?$`).exec(url.pathname))) {
      const vdi = state.vdis.get(match[1]!);
      if (!vdi) return reply(404, { error: "no such object" });
      if (match[2]) {
        if (req.method !== "GET") return refuse(405, "VHD export is a GET");
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(vdi.content.length) });
        return res.end(vdi.content);
      }
      if (req.method === "PATCH") {
        const problems = shape(json, {}, { name_label: "string", name_description: "string" });
        if (problems) return refuse(400, `${problems} (only name_label, name_description and tags can be updated)`);
        if (typeof json.name_label === "string") vdi.name_label = json.name_label;
        return reply(204);
      }
      if (req.method === "DELETE") {
        state.vdis.delete(vdi.id);
        return reply(204);
      }
      return refuse(405, "VDIs take PATCH and DELETE here");
    }
    if (req.method === "GET" && (match = /^\/rest\/v0\/tasks\/(\w+)$/.exec(url.pathname))) {
      const record = state.tasks.get(match[1]!);
      if (!record) return refuse(404, "no such task");
      record.polls++;
      if (record.polls <= PENDING_POLLS) return reply(200, { id: record.id, status: "pending" });
      return reply(200, { id: record.id, status: record.status, result: record.result });
    }
    return refuse(404, "not an endpoint of the XO REST API this contract covers");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    state,
    violations,
    requests,
    breakNextUploadAfter: (bytes) => (breakAfter = bytes),
    powerOffFromGuest: (vmId) => {
      const vm = state.vms.get(vmId);
      if (vm) vm.power_state = "Halted";
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readBody(req: http.IncomingMessage, breakAfter: number | undefined): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (breakAfter !== undefined && size >= breakAfter) {
        req.destroy();
        reject(new Error("upload cut"));
      }
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function pick(object: Record<string, unknown>, fields: readonly string[], collection: string): Record<string, unknown> {
  const out: Record<string, unknown> = { href: `${collection}/${String(object.id)}` };
  for (const field of fields) if (field in object) out[field] = object[field];
  return out;
}

type Kind = "string" | "number" | "boolean" | "object";

/** undefined when the body has the required fields, only known optional ones, all of the right types. */
function shape(body: Record<string, unknown>, required: Record<string, Kind>, optional: Record<string, Kind>): string | undefined {
  const problems: string[] = [];
  for (const [key, kind] of Object.entries(required)) if (typeof body[key] !== kind) problems.push(`${key} must be a ${kind}`);
  for (const [key, value] of Object.entries(body)) {
    const kind = required[key] ?? optional[key];
    if (!kind) problems.push(`unknown field ${key}`);
    else if (typeof value !== kind) problems.push(`${key} must be a ${kind}`);
  }
  return problems.length > 0 ? problems.join("; ") : undefined;
}
