import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { AutounattendError, UNATTEND_NAMESPACE, WCM_NAMESPACE, renderAutounattend } from "../../src/answers/autounattend.ts";
import { GUEST_TOOLS_SCRIPT } from "../../src/answers/guest-tools-script.ts";
import { XmlValueError } from "../../src/answers/xml.ts";
import type { Recipe, ToolsKind } from "../../src/recipe/model.ts";
import { createSecretResolver, type ResolveSecret } from "../../src/recipe/secrets.ts";
import { windowsRecipe } from "./recipes.ts";
import { assertSnapshot } from "../support/snapshot.ts";
import { FIXTURES, guestToolsSnapshot } from "./answers.snapshots.ts";
import { parseXml, walk, type XmlNode } from "./xml-tree.ts";

const PRODUCT_KEY = "TESTK-EYNOT-AREAL-KEY00-00000";
const UNRELATED_SECRET = "unrelated-secret-value-42";
const PASSWORD = "Ref-Passw0rd#1";
const secrets = createSecretResolver({ env: { WIN_KEY: PRODUCT_KEY, OTHER: UNRELATED_SECRET } });
const noSecrets: ResolveSecret = (ref) => assert.fail(`no secret should be resolved, asked for ${ref}`);

function render(recipe: Recipe, resolve: ResolveSecret = secrets, adminPassword = PASSWORD): string {
  return renderAutounattend(recipe, { adminPassword, resolveSecret: resolve });
}

function find(tree: XmlNode, path: string): XmlNode[] {
  return [...walk(tree)].filter((entry) => entry.path === path).map((entry) => entry.node);
}

function texts(tree: XmlNode, path: string): string[] {
  return find(tree, path).map((node) => node.text);
}

const OS_IMAGE = "/unattend/settings/component/ImageInstall/OSImage";

const REFERENCES = [
  {
    file: "bios-edition-productkey.xml",
    recipe: windowsRecipe({
      os: { edition: "Windows 11 Enterprise", productKey: "env:WIN_KEY", hostname: "WIN11-REF", timezone: "UTC", locale: "en-US" },
      hardware: { firmware: "bios" },
    }),
  },
  {
    file: "uefi-index-nokey.xml",
    recipe: windowsRecipe({
      metadata: { name: "citrix-w11-multisession", version: "1.0.0" },
      os: { edition: undefined, imageIndex: 6, timezone: "Europe/Berlin", locale: "de-DE" },
      hardware: { firmware: "uefi" },
    }),
  },
];

describe("autounattend.xml", () => {
  for (const reference of REFERENCES) {
    test(`has the element structure and values of the hand-written reference ${reference.file}`, async () => {
      const expected = await parseXml(await readFile(join(FIXTURES, "autounattend", reference.file), "utf8"));
      const actual = await parseXml(render(reference.recipe));
      assert.deepEqual(actual, expected);
    });
  }

  test("the independent parser rejects malformed XML (so passing it means well-formed)", async () => {
    await assert.rejects(parseXml("<unattend><settings></unattend>"), /mismatched tag/);
  });

  test("is well-formed, in the unattend namespace, with amd64 neutral nonSxS components", async () => {
    const tree = await parseXml(render(windowsRecipe()));
    assert.equal(tree.tag, `{${UNATTEND_NAMESPACE}}unattend`);
    const components = [...walk(tree)].filter((e) => e.path === "/unattend/settings/component").map((e) => e.node);
    assert.equal(components.length, 5);
    for (const c of components) {
      assert.deepEqual(
        { ...c.attrib, name: "" },
        { name: "", processorArchitecture: "amd64", publicKeyToken: "31bf3856ad364e35", language: "neutral", versionScope: "nonSxS" },
      );
    }
    const adds = [...walk(tree)].filter((e) => e.node.attrib[`{${WCM_NAMESPACE}}action`] === "add");
    assert.ok(adds.length > 0, "list items carry wcm:action=add in the wcm namespace");
  });

  const SELECTORS = [
    { name: "edition", os: { edition: "Windows Server 2022 Datacenter" }, key: "/IMAGE/NAME", value: "Windows Server 2022 Datacenter" },
    { name: "image index", os: { edition: undefined, imageIndex: 3 }, key: "/IMAGE/INDEX", value: "3" },
    { name: "edition and index (edition wins)", os: { edition: "Windows 10 Pro", imageIndex: 3 }, key: "/IMAGE/NAME", value: "Windows 10 Pro" },
  ];
  for (const s of SELECTORS) {
    test(`selects the install.wim image by ${s.name}`, async () => {
      const tree = await parseXml(render(windowsRecipe({ os: s.os })));
      assert.deepEqual(texts(tree, `${OS_IMAGE}/InstallFrom/MetaData/Key`), [s.key]);
      assert.deepEqual(texts(tree, `${OS_IMAGE}/InstallFrom/MetaData/Value`), [s.value]);
    });
  }

  test("refuses a recipe without edition or image index, since Setup would stop at the picker", () => {
    assert.throws(() => render(windowsRecipe({ os: { edition: undefined } })), (error: Error) => {
      assert.ok(error instanceof AutounattendError);
      assert.match(error.message, /os\.edition.*os\.imageIndex/);
      return true;
    });
  });

  const FIRMWARE = [
    { firmware: undefined, types: ["EFI", "MSR", "Primary"], windowsPartition: "3" },
    { firmware: "uefi" as const, types: ["EFI", "MSR", "Primary"], windowsPartition: "3" },
    { firmware: "bios" as const, types: ["Primary", "Primary"], windowsPartition: "2" },
  ];
  for (const f of FIRMWARE) {
    test(`lays out the disk for ${f.firmware ?? "the default (uefi)"} firmware`, async () => {
      const recipe = windowsRecipe(f.firmware ? { hardware: { firmware: f.firmware } } : {});
      const tree = await parseXml(render(recipe));
      assert.deepEqual(texts(tree, "/unattend/settings/component/DiskConfiguration/Disk/CreatePartitions/CreatePartition/Type"), f.types);
      assert.deepEqual(texts(tree, `${OS_IMAGE}/InstallTo/PartitionID`), [f.windowsPartition]);
    });
  }

  test("writes secrets only into their own elements", async () => {
    const xml = render(windowsRecipe({ os: { productKey: "env:WIN_KEY" } }));
    const tree = await parseXml(xml);
    const holders = (secret: string) => [...walk(tree)].filter((e) => e.node.text.includes(secret)).map((e) => e.path);
    assert.deepEqual(holders(PRODUCT_KEY), ["/unattend/settings/component/UserData/ProductKey/Key"]);
    assert.deepEqual(holders(PASSWORD), [
      "/unattend/settings/component/AutoLogon/Password/Value",
      "/unattend/settings/component/UserAccounts/LocalAccounts/LocalAccount/Password/Value",
    ]);
    assert.equal(xml.split(PRODUCT_KEY).length - 1, 1);
    assert.equal(xml.split(PASSWORD).length - 1, 2);
    assert.ok(!xml.includes(UNRELATED_SECRET));
    assert.ok(!xml.includes("env:WIN_KEY"), "the reference is resolved, not copied");
  });

  test("omits ProductKey and resolves nothing when the recipe has no key", async () => {
    const tree = await parseXml(render(windowsRecipe(), noSecrets));
    assert.deepEqual(find(tree, "/unattend/settings/component/UserData/ProductKey"), []);
    assert.deepEqual(texts(tree, "/unattend/settings/component/UserData/AcceptEula"), ["true"]);
  });

  test("escapes every value so the parsed text is exactly the input", async () => {
    const edition = `Windows <Test> & "Pro" 'N'`;
    const password = `p<&>"'w0rD`;
    const tree = await parseXml(render(windowsRecipe({ os: { edition } }), secrets, password));
    assert.deepEqual(texts(tree, `${OS_IMAGE}/InstallFrom/MetaData/Value`), [edition]);
    assert.deepEqual(texts(tree, "/unattend/settings/component/AutoLogon/Password/Value"), [password]);
  });

  test("refuses a value XML cannot carry, without echoing it", () => {
    assert.throws(() => render(windowsRecipe(), secrets, "bad\u0001password"), (error: Error) => {
      assert.ok(error instanceof XmlValueError);
      assert.ok(!error.message.includes("bad\u0001password"));
      return true;
    });
  });

  test("translates the time zone and derives the computer name", async () => {
    const recipe = windowsRecipe({ metadata: { name: "citrix-server-2022-base", version: "1.0.0" }, os: { timezone: "America/New_York" } });
    const tree = await parseXml(render(recipe));
    assert.deepEqual(texts(tree, "/unattend/settings/component/TimeZone"), ["Eastern Standard Time"]);
    assert.deepEqual(texts(tree, "/unattend/settings/component/ComputerName"), ["citrix-server-2"]);
  });

  test("keeps every first-logon command within Windows' 1024-character limit", async () => {
    const tree = await parseXml(render(windowsRecipe()));
    const lines = texts(tree, "/unattend/settings/component/FirstLogonCommands/SynchronousCommand/CommandLine");
    assert.equal(lines.length, 2);
    for (const line of lines) assert.ok(line.length <= 1024, line);
    assert.ok(lines.some((line) => line.includes(GUEST_TOOLS_SCRIPT)));
    assert.ok(lines.some((line) => line.includes("Enable-PSRemoting")));
  });
});

describe("first-logon guest tools script", () => {
  const KINDS: readonly { readonly kind: ToolsKind; readonly installs: RegExp }[] = [
    { kind: "qemu-guest-agent", installs: /virtio-win-gt-x64\.msi[\s\S]*qemu-ga-x86_64\.msi[\s\S]*Start-Service -Name 'qemu-ga'/ },
    { kind: "vmware-tools", installs: /setup64\.exe[\s\S]*\/s \/v"\/qn REBOOT=R"/ },
    { kind: "xenserver-vm-tools", installs: /managementagent\*x64\.msi/ },
  ];
  for (const { kind, installs } of KINDS) {
    test(`installs ${kind} from the attached tools media, reports the install on COM1 and powers off`, async () => {
      const script = await assertSnapshot(guestToolsSnapshot(kind));
      assert.match(script, installs);
      // The report line the runner reads, then the power off it waits for, in that order.
      assert.match(script, /\$port\.WriteLine\('REBAKE-INSTALL: OK rebake-b-1'\)[\s\S]*Stop-Computer -Force\s*$/);
    });
  }
});
