/** The shape of the `rebake:` keys of a stack file; model.ts holds the resulting types. */
import { boolean, integer, list, object, oneOf, optional, required, string, variant, type Field } from "./shape.ts";

/** Config keys of rebake are `rebake:<key>`; other namespaces belong to providers. */
export const CONFIG_NAMESPACE = "rebake";

/** Keys Pulumi itself writes into a stack file. */
export const STACK_FILE_KEYS = ["config", "secretsprovider", "encryptedkey", "encryptionsalt"];

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const VERSION = /^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/;
const HOST = /^[A-Za-z0-9][A-Za-z0-9.-]*$/;
const URL_PATTERN = /^https?:\/\/[^\s/]+/;
const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const SECRET = string("env:VCENTER_PASSWORD");

export const STACK_CONFIG_FIELDS: Readonly<Record<string, Field>> = {
  target: required(oneOf("pvs", "mcs")),
  image: required(
    object({
      recipe: required(string("ws2022-pvs", NAME)),
      version: required(string("3.2.0", VERSION)),
      manifest: optional(string("out/ws2022-pvs/3.2.0/manifest.json")),
    }),
  ),
  hypervisor: required(
    variant({
      qemu: {},
      vsphere: {
        server: required(string("vcenter.corp.example", HOST)),
        datacenter: required(string("DC1")),
        username: required(string("svc-rebake@vsphere.local")),
        password: required(SECRET),
        insecure: optional(boolean),
      },
      xenorchestra: {
        url: required(string("https://xo.corp.example", URL_PATTERN)),
        token: required(string("env:XO_TOKEN")),
        insecure: optional(boolean),
      },
    }),
  ),
  mcs: optional(
    object({
      goldenVm: required(object({ name: required(string("W11-GOLD")), uuid: required(string("4212a1f2-6b9c-3e8d-1f0a-2b3c4d5e6f70", GUID)) })),
      cvad: required(
        object({
          url: required(string("https://api.cloud.com", URL_PATTERN)),
          customerId: required(string("corpexample")),
          siteId: required(string("0b4e9c9a-5d35-4b0a-8f15-9d0c4e7c1a11", GUID)),
          token: required(string("env:CVAD_TOKEN")),
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
          }),
        ),
      ),
    }),
  ),
  pvs: optional(
    object({
      server: required(string("pvs01.corp.example", HOST)),
      port: optional(integer(1, 65535)),
      executor: required(
        variant({
          local: {},
          ssh: {
            host: required(string("pvs01.corp.example", HOST)),
            user: required(string("svc-rebake")),
            port: optional(integer(1, 65535)),
            identityFile: optional(string("~/.ssh/rebake_pvs")),
          },
        }),
      ),
      accessMode: required(oneOf("maintenance", "test", "production")),
      sites: required(
        list(
          object({
            name: required(string("HQ", NAME)),
            server: required(string("pvs01.corp.example", HOST)),
            collection: required(string("WS2022-Apps")),
            store: required(
              object({
                name: required(string("Store-HQ")),
                location: required(string("\\\\pvs01\\vDisks or smb://pvs01/vDisks")),
                username: optional(string("CORP\\svc-rebake")),
                password: optional(string("env:PVS_STORE_PASSWORD")),
              }),
            ),
          }),
        ),
      ),
    }),
  ),
};
