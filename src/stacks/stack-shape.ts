/** The shape of the `rebake:` keys of a stack file; model.ts holds the resulting types. */
import { boolean, integer, list, object, oneOf, optional, required, string, variant, type Constraint, type Field, type Shape } from "./shape.ts";

/** Config keys of rebake are `rebake:<key>`; other namespaces belong to providers. */
export const CONFIG_NAMESPACE = "rebake";

/** Keys Pulumi itself writes into a stack file. */
export const STACK_FILE_KEYS = ["config", "secretsprovider", "encryptedkey", "encryptionsalt"];

const NAME: Constraint = { pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/, words: "letters, digits, dots, underscores or hyphens, starting with a letter or digit" };
const VERSION: Constraint = { pattern: /^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/, words: "a version of three numbers like 3.2.0, optionally with a -suffix" };
const HOST: Constraint = { pattern: /^[A-Za-z0-9][A-Za-z0-9.-]*$/, words: "a host name: letters, digits, dots and hyphens, starting with a letter or digit" };
const URL_PATTERN: Constraint = { pattern: /^https?:\/\/[^\s/]+/, words: "an https:// or http:// address" };
const GUID: Constraint = { pattern: /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, words: "a GUID: 32 hex digits in groups of 8-4-4-4-12" };
const WSMAN_URL: Constraint = { pattern: /^https?:\/\/[^/\s]+\/wsman$/, words: "a WinRM address ending in /wsman, e.g. https://host:5986/wsman" };
/**
 * A PVS object name (collection, store): free text for PVS, but the stack feeds it to PowerShell
 * and people edit it in spreadsheets, so it must not start like a formula or hold control characters.
 * The PVS programming guide states no character set for these names.
 */
const PVS_NAME: Constraint = { pattern: /^[^=+\-@\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$/, words: "a name that does not start with =, +, -, @ or a space (a spreadsheet would run it as a formula) and holds no control characters" };
const SECRET = string("env:VCENTER_PASSWORD");
const IPV4: Constraint = { pattern: /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/, words: "an IPv4 address like 10.0.10.11" };

export const STACK_CONFIG_FIELDS: Readonly<Record<string, Field>> = {
  target: required(oneOf("pvs", "mcs")),
  image: required(
    object({
      recipe: required(string("ws2022-pvs", NAME)),
      version: required(string("3.2.0", VERSION)),
      manifest: optional(string("out/ws2022-pvs/3.2.0/manifest.json")),
    }),
  ),
  hypervisor: required(hypervisorShape()),
  mcs: optional(
    object({
      goldenVm: optional(
        object({
          name: required(string("W11-GOLD")),
          uuid: required(string("4212a1f2-6b9c-3e8d-1f0a-2b3c4d5e6f70", GUID)),
          resourcePools: optional(list(string("VDI"), 0)),
          snapshots: optional(list(string("w11-1.3.0"), 0)),
        }),
      ),
      via: optional(oneOf("rest", "powershell")),
      cvad: optional(
        object({
          url: required(string("https://api.cloud.com", URL_PATTERN)),
          customerId: required(string("corpexample")),
          siteId: required(string("0b4e9c9a-5d35-4b0a-8f15-9d0c4e7c1a11", GUID)),
          token: required(string("env:CVAD_TOKEN")),
        }),
      ),
      powershell: optional(
        object({
          adminAddress: required(string("ddc01.corp.example", HOST)),
          executor: required(executorShape("ddc01", "DDC")),
        }),
      ),
      catalogs: required(
        list(
          object({
            name: required(string("W11-Pooled", NAME)),
            id: required(string("3f1b5a2e-8c7d-4e1f-9a6b-2d4c8e0f1a3b", GUID)),
            hostingUnit: required(string("HU-Cluster01")),
            reboot: optional(oneOf("rolling", "immediate", "none")),
            rebootWarningMinutes: optional(integer(0, 1440)),
            rebootDurationMinutes: optional(integer(1, 10080)),
          }),
        ),
      ),
    }),
  ),
  pvs: optional(
    object({
      server: required(string("pvs01.corp.example", HOST)),
      port: optional(integer(1, 65535)),
      executor: required(executorShape("pvs01", "PVS")),
      accessMode: required(oneOf("maintenance", "test", "production")),
      maxVersionChain: optional(integer(1, 64)),
      sites: required(
        list(
          object({
            name: required(string("HQ", NAME)),
            server: required(string("pvs01.corp.example", HOST)),
            collection: required(string("WS2022-Apps", PVS_NAME)),
            store: required(
              object({
                name: required(string("Store-HQ", PVS_NAME)),
                location: required(string("\\\\pvs01\\vDisks or smb://pvs01/vDisks")),
                username: optional(string("CORP\\svc-rebake")),
                password: optional(string("env:PVS_STORE_PASSWORD")),
              }),
            ),
            // Added for issue 6 (src/boot/, src/devices/): how the site's devices boot, and their manifest.
            boot: optional(
              object({
                method: required(oneOf("pxe", "iso", "bdm")),
                servers: required(list(object({ host: required(string("pvs01.corp.example", HOST)), ip: required(string("10.0.10.11", IPV4)), port: optional(integer(1, 65535)) }))),
                firmware: optional(oneOf("uefi", "bios")),
                tftpName: optional(string("pvs-tftp.corp.example", HOST)),
                bootfile: optional(string("pvsnbpx64.efi")),
                isoPath: optional(string("[datastore1] iso/pvs-boot.iso")),
              }),
            ),
            devices: optional(string("devices/hq.csv")),
          }),
        ),
      ),
    }),
  ),
};

/**
 * The `rebake:hypervisor` block, also the whole of a `--hypervisor-config` file. The fields after
 * `insecure` say where builds run (issue 4); publish needs none of them.
 */
export function hypervisorShape(): Shape {
  const os = optional(oneOf("linux", "windows"));
  const guest = optional(
    variant({
      qga: { os },
      "vmware-tools": { user: required(string("Administrator")), password: required(string("env:GUEST_PASSWORD")), os },
      ssh: { user: required(string("builder")), keyPath: required(string("/secrets/build_ed25519")), host: optional(string("10.0.0.5", HOST)), port: optional(integer(1, 65535)), os },
      winrm: {
        user: required(string("Administrator")),
        password: required(string("env:WINRM_PASSWORD")),
        url: optional(string("https://10.0.0.5:5986/wsman", WSMAN_URL)),
        https: optional(boolean),
        port: optional(integer(1, 65535)),
        caPath: optional(string("certs/lab-ca.pem")),
      },
    }),
  );
  return variant({
    qemu: { guest },
    vsphere: {
      server: required(string("vcenter.corp.example", HOST)),
      datacenter: required(string("DC1")),
      username: required(string("svc-rebake@vsphere.local")),
      password: required(SECRET),
      insecure: optional(boolean),
      url: optional(string("https://vcenter.corp.example/sdk", URL_PATTERN)),
      datastore: optional(string("vsanDatastore")),
      network: optional(string("VM Network")),
      resourcePool: optional(string("/DC1/host/Cluster01/Resources")),
      folder: optional(string("rebake")),
      isoFolder: optional(string("rebake-iso")),
      guestId: optional(string("windows9Server64Guest")),
      hostingUnit: optional(string("HU-Cluster01")),
      markAsTemplate: optional(boolean),
      guest,
    },
    xenorchestra: {
      url: required(string("https://xo.corp.example", URL_PATTERN)),
      token: required(string("env:XO_TOKEN")),
      insecure: optional(boolean),
      pool: optional(string("355ee47d-ff4c-4924-3db2-fd86ae629676")),
      template: optional(string("d1b3c9f0-7a2e-4c55-9a4e-0c8e3f6b2a10")),
      isoSr: optional(string("a5954951-3dfa-42b8-803f-4bc270b22a0b")),
      hostingUnit: optional(string("HU-Pool01")),
      guest,
    },
  });
}

/** Where Citrix PowerShell scripts run (src/pvs/executor.ts): the PVS server or a Delivery Controller. */
function executorShape(host: string, secretSuffix: string): Shape {
  return variant({
    local: {},
    ssh: {
      host: required(string(`${host}.corp.example`, HOST)),
      user: required(string("svc-rebake")),
      port: optional(integer(1, 65535)),
      identityFile: optional(string(`~/.ssh/rebake_${host.replace(/\d+$/, "")}`)),
    },
    winrm: {
      host: required(string(`${host}.corp.example`, HOST)),
      user: required(string(`${host}\\svc-rebake`)),
      password: required(string(`env:${secretSuffix}_WINRM_PASSWORD`)),
      https: optional(boolean),
      port: optional(integer(1, 65535)),
      caPath: optional(string(`certs/${host.replace(/\d+$/, "")}-ca.pem`)),
    },
  });
}
