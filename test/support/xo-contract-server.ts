/**
 * A local Xen Orchestra REST server (/rest/v0) for contract tests. Every route is taken from XO's
 * own source (vatesfr/xen-orchestra) and cites it; a request XO would not route is refused the way
 * XO refuses it (express answers an unmatched method or path with 404) and recorded as a violation,
 * so a test fails on the first call XO would not accept. Sources:
 *   M = packages/xo-server/src/xo-mixins/rest-api.mjs (read at 005e4dfdd19a2e2151f965d1d8e7fbb4241d4fdd):
 *       auth, collections, actions of pools and VMs, VDI import/export, DELETE, PATCH, tasks
 *   V = @xen-orchestra/rest-api/src/vms/vm.controller.mts (GET /vms/{id}; the newer VM actions);
 *       pools/pool.controller.mts createVm (the newer create_vm, answering {id})
 *   B = @xen-orchestra/rest-api/src/abstract-classes/base-controller.mts (createAction)
 *   K = @xen-orchestra/rest-api/src/vbds/vbd.controller.mts (createVbd {VM, VDI, ...}, deleteVbd)
 *   O = packages/xo-server/src/xapi-object-to-xo.mjs (object fields: $VBDs, parent, $snapshot_of)
 *   D = packages/xo-server/docs/rest-api.md
 * XO has answered actions in two forms, both served here (`actionForm`):
 *   "rest-api.mjs": M's POST /:collection/:object/actions/:action: 202 whose body is the task's
 *     path as plain text (res.end), or with ?sync the action's result as JSON (a snapshot's UUID).
 *   "controllers": B createAction: 202 with a Location header and {"taskId"}; with ?sync V answers
 *     a snapshot 201 {"id"} with Location /rest/v0/vm-snapshots/<id>, start and shutdowns 204.
 * Stricter than XO, and said so where it applies: bodies with fields XO's schemas do not list are
 * refused (XO's own handling of extra fields is not in the source read).
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

export type XoActionForm = "rest-api.mjs" | "controllers";

interface XoVmRecord {
  id: string;
  name_label: string;
  power_state: "Running" | "Halted";
  $VBDs: string[];
  memory: number;
  template: string;
  /** O: XAPI's VM.parent, the snapshot the VM's disks now derive from. */
  parent?: string;
}

export interface XoContractState {
  readonly pools: { id: string; name_label: string }[];
  readonly templates: { id: string; name_label: string }[];
  readonly srs: { id: string; name_label: string }[];
  readonly vms: Map<string, XoVmRecord>;
  readonly vbds: Map<string, { id: string; VM: string; VDI: string; is_cd_drive: boolean; bootable: boolean; mode: "RO" | "RW" }>;
  readonly vdis: Map<string, { id: string; name_label: string; $SR: string; content: Buffer }>;
  /** O: a VM-snapshot carries $snapshot_of and parent (the snapshot before it). */
  readonly snapshots: Map<string, { id: string; name_label: string; $snapshot_of: string; parent?: string }>;
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

export interface XoContractOptions {
  /** @default "rest-api.mjs" */
  readonly actionForm?: XoActionForm;
}

const UUID = "[0-9a-f-]{36}";
/** Tasks answer "pending" this many times before they settle, so clients must poll. */
const PENDING_POLLS = 1;
/** The VHD a template's disk holds: a footer cookie is enough to tell it from other content. */
export const TEMPLATE_DISK_CONTENT = Buffer.concat([Buffer.alloc(4096, 0x5a), Buffer.from("conectix")]);

interface Reply {
  status: number;
  /** JSON unless `text` is set. */
  body?: unknown;
  text?: string;
  headers?: Record<string, string>;
}

export async function startXoContractServer(options: XoContractOptions = {}): Promise<XoContractServer> {
  const actionForm = options.actionForm ?? "rest-api.mjs";
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

  /** M: a task per action (app.tasks.create), its id as XO prints them. */
  const task = (result: unknown, failure = false): string => {
    const id = Math.random().toString(36).slice(2, 11);
    state.tasks.set(id, { id, status: failure ? "failure" : "success", result, polls: 0 });
    return id;
  };

  /**
   * An action's answer in the form this server speaks (see the header). `result` is what M's
   * action returns (a UUID for create_vm and snapshot, nothing for power actions); the controllers
   * return the UUID as {id} (pools/pool.controller.mts createVm, V snapshotVm), in the task too.
   */
  const actionAnswer = (sync: boolean, result: unknown, failure: boolean, syncForm: { status: number; location?: string }): Reply => {
    const shaped = actionForm === "controllers" && typeof result === "string" && !failure ? { id: result } : result;
    if (sync) {
      // M: pResult.then(result => res.json(result), next): a failed action is an express error (500).
      if (failure) return { status: 500, body: result };
      if (actionForm === "rest-api.mjs") return { status: 200, body: result ?? null };
      // V/B: setStatus(statusCode); a snapshot answers {id} and Location.
      return result === null ? { status: syncForm.status } : { status: syncForm.status, body: shaped, ...(syncForm.location ? { headers: { location: syncForm.location } } : {}) };
    }
    const id = task(shaped, failure);
    const href = `/rest/v0/tasks/${id}`;
    // M: res.statusCode = 202; res.end(req.baseUrl + '/tasks/' + task.id). B: 202, Location, {taskId}.
    return actionForm === "rest-api.mjs" ? { status: 202, text: href } : { status: 202, body: { taskId: id }, headers: { location: href } };
  };

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const route = `${req.method} ${url.pathname}`;
    requests.push(`${route}${url.search}`);
    const send = (reply: Reply) => {
      const text = reply.text ?? (reply.body === undefined ? "" : JSON.stringify(reply.body));
      const type = reply.text !== undefined ? "text/plain; charset=utf-8" : reply.body !== undefined ? "application/json; charset=utf-8" : undefined;
      res.writeHead(reply.status, { ...(type ? { "content-type": type } : {}), ...reply.headers });
      res.end(text);
    };
    const refuse = (status: number, why: string): void => {
      violations.push(`${route}: ${why}`);
      send({ status, body: { error: why } });
    };

    // M api.use(...): the token is the authenticationToken (or token) cookie; anything else is 401.
    const cookies = Object.fromEntries((req.headers.cookie ?? "").split(";").map((c) => c.trim().split("=")).filter((kv) => kv.length === 2)) as Record<string, string>;
    const presented = cookies["authenticationToken"] ?? cookies["token"];
    if (presented !== token) {
      req.resume();
      // A wrong token is a legitimate request XO answers 401; no token at all is a client bug.
      if (presented === undefined) return refuse(401, "no authenticationToken cookie");
      return send({ status: 401 });
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
      // M and K parse bodies with express json(), which reads only application/json.
      if (req.headers["content-type"] !== "application/json") return refuse(400, "body without content-type application/json");
      try {
        json = JSON.parse(raw.toString()) as Record<string, unknown>;
      } catch {
        return refuse(400, "body is not JSON");
      }
    }
    const sync = url.searchParams.has("sync") && url.searchParams.get("sync") !== "false";
    let match: RegExpExecArray | null;

    // M GET /:collection (fields -> objects with href, else URLs); V getVms for vms.
    if (req.method === "GET" && (match = /^\/rest\/v0\/(pools|vm-templates|srs|vdis|vbds|vms|vm-snapshots)$/.exec(url.pathname))) {
      const collection = match[1]!;
      const objects: Record<string, unknown>[] =
        collection === "pools" ? state.pools
        : collection === "vm-templates" ? state.templates
        : collection === "srs" ? state.srs
        : collection === "vdis" ? [...state.vdis.values()]
        : collection === "vbds" ? [...state.vbds.values()]
        : collection === "vms" ? [...state.vms.values()]
        : [...state.snapshots.values()];
      const fields = url.searchParams.get("fields");
      return send({ status: 200, body: objects.map((o) => (fields ? pick(o, fields.split(","), `/rest/v0/${collection}`) : `/rest/v0/${collection}/${String(o.id)}`)) });
    }

    // M collections.pools.actions.create_vm: withParams schema (name_label, template required;
    // affinity, auto_poweron, boot, clone, cloud_config, destroy_cloud_config_vdi, install, memory
    // (integer), name_description, network_config, vdis, vifs optional); the result is the VM's UUID.
    if ((match = new RegExp(`^/rest/v0/pools/(${UUID})/actions/create_vm$`).exec(url.pathname))) {
      if (req.method !== "POST") return refuse(404, "actions are started with POST (M api.post('/:collection/:object/actions/:action'))");
      if (!state.pools.some((p) => p.id === match![1])) return refuse(404, "no such pool");
      const problems = shape(json, { name_label: "string", template: "string" }, {
        name_description: "string", memory: "integer", boot: "boolean", clone: "boolean", affinity: "string", auto_poweron: "boolean",
        cloud_config: "string", destroy_cloud_config_vdi: "boolean", install: "object", network_config: "string", vdis: "array", vifs: "array",
      });
      // M: validateParams fails -> 400 with the errors.
      if (problems) return refuse(400, problems);
      const template = json.template as string;
      const fromSnapshot = state.snapshots.get(template);
      if (!fromSnapshot && !state.templates.some((t) => t.id === template)) return send(actionAnswer(sync, { message: `no such object ${template}` }, true, { status: 201 }));
      const id = randomUUID();
      const disk = randomUUID();
      const vbd = randomUUID();
      state.vdis.set(disk, { id: disk, name_label: `${json.name_label} disk`, $SR: "local", content: TEMPLATE_DISK_CONTENT });
      state.vbds.set(vbd, { id: vbd, VM: id, VDI: disk, is_cd_drive: false, bootable: true, mode: "RW" });
      // XAPI VM.clone of a snapshot: the clone's parent is that snapshot (XAPI behaviour, not read from XO's source).
      state.vms.set(id, { id, name_label: json.name_label as string, power_state: "Halted", $VBDs: [vbd], memory: (json.memory as number | undefined) ?? 0, template, ...(fromSnapshot ? { parent: fromSnapshot.id } : {}) });
      return send(actionAnswer(sync, id, false, { status: 201 }));
    }

    // M collections.vms.actions: clean_reboot, clean_shutdown, hard_reboot, hard_shutdown, snapshot
    // ({name_label?}), start; any other action -> next() -> 404. V has the same names.
    if ((match = new RegExp(`^/rest/v0/vms/(${UUID})/actions/(\\w+)$`).exec(url.pathname))) {
      if (req.method !== "POST") return refuse(404, "actions are started with POST (M api.post('/:collection/:object/actions/:action'))");
      const vm = state.vms.get(match[1]!);
      if (!vm) return refuse(404, "no such VM");
      const action = match[2]!;
      const badPower = (wanted: string) => ({ message: `VM_BAD_POWER_STATE(${vm.power_state}): ${action} needs ${wanted}` });
      switch (action) {
        case "start":
          if (vm.power_state !== "Halted") return send(actionAnswer(sync, badPower("Halted"), true, { status: 204 }));
          vm.power_state = "Running";
          return send(actionAnswer(sync, null, false, { status: 204 }));
        case "clean_shutdown":
        case "hard_shutdown":
          if (vm.power_state !== "Running") return send(actionAnswer(sync, badPower("Running"), true, { status: 204 }));
          vm.power_state = "Halted";
          return send(actionAnswer(sync, null, false, { status: 204 }));
        case "snapshot": {
          const problems = shape(json, {}, { name_label: "string" });
          if (problems) return refuse(400, problems);
          const id = randomUUID();
          // XAPI: the new snapshot's parent is the VM's parent, then the VM derives from the new
          // snapshot (XAPI behaviour, exposed by O as `parent`; not read from XO's source).
          state.snapshots.set(id, { id, name_label: (json.name_label as string | undefined) ?? vm.name_label, $snapshot_of: vm.id, ...(vm.parent ? { parent: vm.parent } : {}) });
          vm.parent = id;
          return send(actionAnswer(sync, id, false, { status: 201, location: `/rest/v0/vm-snapshots/${id}` }));
        }
        default:
          return refuse(404, `no action ${action} on VMs (M: clean_reboot, clean_shutdown, hard_reboot, hard_shutdown, snapshot, start)`);
      }
    }

    // V getVm (GET /vms/{id}); M DELETE /:collection(vdis|vdi-snapshots|vms|vm-snapshots|vm-templates)/:object -> 200.
    if ((match = new RegExp(`^/rest/v0/(vms|vm-snapshots)/(${UUID})$`).exec(url.pathname))) {
      if (req.method !== "GET" && req.method !== "DELETE") return refuse(404, `no ${req.method} route for ${match[1]} (V GET, M DELETE)`);
      const object = match[1] === "vms" ? state.vms.get(match[2]!) : state.snapshots.get(match[2]!);
      // M api.param('object'): an unknown object falls through every route -> 404 (not a violation: clients probe).
      if (!object) return send({ status: 404 });
      if (req.method === "GET") return send({ status: 200, body: { ...object, type: match[1] === "vms" ? "VM" : "VM-snapshot" } });
      if (req.method === "DELETE") {
        if (match[1] === "vm-snapshots") {
          state.snapshots.delete(object.id);
          return send({ status: 200, text: "OK" });
        }
        const vm = object as XoVmRecord;
        // XAPI VM.destroy refuses a running VM; M passes the error to express (500).
        if (vm.power_state !== "Halted") return refuse(500, "VM_BAD_POWER_STATE: destroy needs a halted VM");
        for (const vbd of vm.$VBDs) {
          const record = state.vbds.get(vbd);
          if (record && !record.is_cd_drive) state.vdis.delete(record.VDI);
          state.vbds.delete(vbd);
        }
        state.vms.delete(vm.id);
        return send({ status: 200, text: "OK" });
      }
    }

    // K createVbd: POST /vbds, body Xapi VBD_create params with VM and VDI ids; 201 {id} + Location.
    if (url.pathname === "/rest/v0/vbds") {
      if (req.method !== "POST") return refuse(404, "VBDs are created with POST /vbds (K)");
      const problems = shape(json, { VM: "string", VDI: "string" }, {
        bootable: "boolean", mode: "string", type: "string", userdevice: "string", empty: "boolean", unpluggable: "boolean", other_config: "object",
      });
      if (problems) return refuse(400, problems);
      if (json.mode !== undefined && json.mode !== "RO" && json.mode !== "RW") return refuse(400, `mode must be RO or RW, got ${String(json.mode)}`);
      if (json.type !== undefined && json.type !== "CD" && json.type !== "Disk" && json.type !== "Floppy") return refuse(400, `type must be CD, Disk or Floppy, got ${String(json.type)}`);
      const vm = state.vms.get(json.VM as string);
      const vdi = state.vdis.get(json.VDI as string);
      if (!vm || !vdi) return refuse(404, "no such VM or VDI");
      const id = randomUUID();
      state.vbds.set(id, { id, VM: vm.id, VDI: vdi.id, is_cd_drive: json.type === "CD", bootable: json.bootable === true, mode: (json.mode as "RO" | "RW" | undefined) ?? "RW" });
      vm.$VBDs.push(id);
      return send({ status: 201, body: { id }, headers: { location: `/rest/v0/vbds/${id}` } });
    }
    // K getVbd / deleteVbd (204; the VDI stays).
    if ((match = new RegExp(`^/rest/v0/vbds/(${UUID})$`).exec(url.pathname))) {
      if (req.method !== "GET" && req.method !== "DELETE") return refuse(404, "VBDs take GET and DELETE (K)");
      const vbd = state.vbds.get(match[1]!);
      if (!vbd) return send({ status: 404 });
      if (req.method === "GET") return send({ status: 200, body: { ...vbd, type: "VBD" } });
      if (req.method === "DELETE") {
        state.vbds.delete(vbd.id);
        const vm = state.vms.get(vbd.VM);
        if (vm) vm.$VBDs = vm.$VBDs.filter((id) => id !== vbd.id);
        return send({ status: 204 });
      }
    }

    // M api.post('/:collection(srs)/:object/vdis'): raw (flag) and name_label/name_description
    // query parameters, length from content-length; the answer is the new VDI's UUID as plain text.
    if (isUpload) {
      const sr = url.pathname.split("/")[4]!;
      if (!state.srs.some((s) => s.id === sr)) return send({ status: 404 });
      if (!url.searchParams.has("raw")) return refuse(400, "an ISO is imported raw: without the raw query parameter XO reads the body as VHD");
      if (req.headers["content-length"] !== String(raw.length)) return refuse(400, `content-length ${req.headers["content-length"]} differs from the ${raw.length} bytes received`);
      const id = randomUUID();
      state.vdis.set(id, { id, name_label: url.searchParams.get("name_label") ?? "", $SR: sr, content: raw });
      return send({ status: 200, text: id });
    }
    // M api.get('/:collection(vdis|vdi-snapshots)/:object.:format(vhd|raw)'); M PATCH
    // /:collection/:object (name_description, name_label, tags; 204); M DELETE (200).
    if ((match = new RegExp(`^/rest/v0/vdis/(${UUID})(\\.vhd|\\.raw)?$`).exec(url.pathname))) {
      const vdi = state.vdis.get(match[1]!);
      if (!vdi) return send({ status: 404 });
      if (match[2]) {
        if (req.method !== "GET") return refuse(404, "VDI content is exported with GET (PUT imports into an existing VDI)");
        res.writeHead(200, { "content-disposition": "attachment", "content-length": String(vdi.content.length) });
        return res.end(vdi.content);
      }
      if (req.method === "PATCH") {
        const problems = shape(json, {}, { name_label: "string", name_description: "string", tags: "array" });
        if (problems) return refuse(400, `${problems} (M updates only name_label, name_description and tags)`);
        if (typeof json.name_label === "string") vdi.name_label = json.name_label;
        return send({ status: 204 });
      }
      if (req.method === "DELETE") {
        state.vdis.delete(vdi.id);
        return send({ status: 200, text: "OK" });
      }
      return refuse(404, `no ${req.method} route for a VDI`);
    }
    // M collections.tasks.getObject (app.tasks.get; ?wait=result waits); T getTask.
    if ((match = /^\/rest\/v0\/tasks\/(\w+)$/.exec(url.pathname))) {
      if (req.method !== "GET") return refuse(404, "tasks are read with GET");
      const record = state.tasks.get(match[1]!);
      if (!record) return send({ status: 404 });
      record.polls++;
      if (record.polls <= PENDING_POLLS && url.searchParams.get("wait") !== "result") return send({ status: 200, body: { id: record.id, status: "pending" } });
      return send({ status: 200, body: { id: record.id, status: record.status, result: record.result } });
    }
    return refuse(404, "no route of XO's REST API matches (express answers 404)");
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

/** M makeObjectMapper: the requested fields plus href. */
function pick(object: Record<string, unknown>, fields: readonly string[], collection: string): Record<string, unknown> {
  const out: Record<string, unknown> = { href: `${collection}/${String(object.id)}` };
  for (const field of fields) if (field in object) out[field] = object[field];
  return out;
}

type Kind = "string" | "integer" | "boolean" | "object" | "array";

function kindOf(value: unknown): Kind | "other" {
  if (Array.isArray(value)) return "array";
  if (Number.isInteger(value)) return "integer";
  const type = typeof value;
  return type === "string" || type === "boolean" || type === "object" ? type : "other";
}

/** undefined when the body has the required fields, only known optional ones, all of the right types. */
function shape(body: Record<string, unknown>, required: Record<string, Kind>, optional: Record<string, Kind>): string | undefined {
  const problems: string[] = [];
  for (const [key, kind] of Object.entries(required)) if (kindOf(body[key]) !== kind) problems.push(`${key} must be ${kind}`);
  for (const [key, value] of Object.entries(body)) {
    const kind = required[key] ?? optional[key];
    if (!kind) problems.push(`unknown field ${key}`);
    else if (kindOf(value) !== kind) problems.push(`${key} must be ${kind}`);
  }
  return problems.length > 0 ? problems.join("; ") : undefined;
}
