/** secret-literal: what counts as a literal credential, and that it never reaches the output unmasked. */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import type { App } from "../../src/recipe/model.ts";
import { createSecretLiteral } from "../../src/recipe/rules/secret-literal.ts";
import { findLiteralSecrets } from "../../src/recipe/secret-patterns.ts";
import { appDoc, recipeDoc, ruleContext } from "./helpers/source-document.ts";
import { pvsRecipe } from "./helpers/recipes.ts";

describe("findLiteralSecrets", () => {
  const literal: readonly (readonly [string, string])[] = [
    ["New-SmbMapping -RemotePath \\\\fs\\sw -UserName u -Password 'Winter2024!'", "-Password '***'"],
    ['Set-Thing -Token "ghp_abcdef123"', '-Token "***"'],
    ["Connect-Foo -Password Hunter2", "-Password ***"],
    ["$s = ConvertTo-SecureString 'P@ssw0rd' -AsPlainText -Force", "ConvertTo-SecureString '***'"],
    ["netdom join %COMPUTERNAME% /domain:corp /ud:corp\\svc /pd:S3cret!", "/pd:***"],
    ["cmdkey /add:fs01 /user:svc /pass:S3cret!", "/pass:***"],
    ["net use S: \\\\fs01\\sw /user:corp\\svc /p:Secret1", "/p:***"],
    ["curl --password=hunter2 https://x", "--password=***"],
    ["mysql --token abc123", "--token ***"],
    ['ADMIN_PASSWORD="Summer2024"', 'ADMIN_PASSWORD="***"'],
    ["$password = 'Summer2024'", "$password = '***'"],
    ["slmgr /ipk VK7JG-NPHTM-C97JM-9MPGT-3V66T", "*****-*****-*****-*****-3V66T"],
    // Issue 11: MSI properties, net user, chpasswd, credentials in URLs.
    ["msiexec /i agent.msi /qn PROXY_PASSWORD=Hunter2", "PROXY_PASSWORD=***"],
    ["msiexec /i agent.msi LICENSEKEY=ABCD-1234 /qn", "LICENSEKEY=***"],
    ["setup.exe DB_PWD=s3cret", "DB_PWD=***"],
    ["msiexec /i a.msi SERVICEPASSWORD_ENC=\"xyz\"", 'SERVICEPASSWORD_ENC="***"'],
    ["net user localadmin Passw0rd! /add", "net user localadmin ***"],
    ['net user "build svc" Passw0rd!', 'net user "build svc" ***'],
    ["echo 'root:Sup3r' | chpasswd", "echo 'root:***' | chpasswd"],
    ["printf svc:Sup3r | sudo chpasswd", "printf svc:*** | sudo chpasswd"],
    ["chpasswd <<< 'svc:Sup3r'", "chpasswd <<< 'svc:***'"],
    ["curl -O https://ci:Tok3n@repo.example/x.tgz", "https://ci:***@"],
    ["smbclient smb://svc:Sh4re@fs01/share", "smb://svc:***@"],
  ];
  for (const [text, shown] of literal) {
    it(`finds and masks: ${text}`, () => {
      assert.deepEqual(findLiteralSecrets(text).map((found) => found.shown), [shown]);
    });
  }
  const references = [
    "Add-Computer -Credential $credential",
    "Connect-Foo -Password $env:JOIN_PASSWORD",
    'Connect-Foo -Password "$env:JOIN_PASSWORD"',
    "Connect-Foo -Password (Get-Secret join)",
    "ConvertTo-SecureString $env:PW -AsPlainText -Force",
    "netdom join %COMPUTERNAME% /pd:*",
    "net use S: \\\\fs01\\sw /p:%SHARE_PASSWORD%",
    "msbuild app.sln /p:Configuration=Release",
    'PASSWORD="$JOIN_PASSWORD"',
    "echo password policy is set",
    "Set-LocalUser -PasswordNeverExpires $true",
    "curl --password=${PASSWORD} https://x",
    "{file} /quiet /password={password}",
    "msiexec /i app.msi PRODUCTCODE={12345678-ABCD-1234-ABCD-1234567890AB}",
    "xcopy src dst /E /Y",
    // Issue 11: references and switches, not literals.
    "$p = $env:SVC_PASSWORD | ConvertTo-SecureString -AsPlainText -Force",
    "ConvertTo-SecureString -AsPlainText -Force -String $env:PW",
    "net user localadmin * /add",
    "net user localadmin /delete",
    "msiexec /i a.msi PROXY_PASSWORD=$env:PROXY_PASSWORD",
    "msiexec /i a.msi PROXY_PASSWORD=%PROXY_PASSWORD%",
    "setxkbmap KEYBOARD=us",
    "echo \"svc:$SVC_PASSWORD\" | chpasswd",
    "curl https://repo.example/x.tgz",
    "git clone https://github.com/org/repo.git",
  ];
  for (const text of references) {
    it(`accepts a reference or non-secret: ${text}`, () => assert.deepEqual(findLiteralSecrets(text), []));
  }
  it("reports a product key given as -ProductKey once", () => {
    assert.equal(findLiteralSecrets("Set-WindowsProductKey -ProductKey 'VK7JG-NPHTM-C97JM-9MPGT-3V66T'").length, 1);
  });
});

describe("secret-literal", () => {
  const rule = createSecretLiteral((path) => (path.endsWith("creds.ps1") ? "Connect-Share -Password 'Winter2024!'" : undefined));
  it("scans custom steps, seal scripts, checks, script files, install commands and VDA options; got is masked", () => {
    const recipe = pvsRecipe();
    recipe.steps = [{ name: "map", after: "apps", shell: "powershell", run: "New-SmbMapping -Password 'Winter2024!'" }];
    recipe.seal = { scripts: [{ name: "s", shell: "powershell", file: "creds.ps1" }] };
    recipe.checks = [{ name: "c", shell: "sh", run: "curl --password=hunter2 http://x" }];
    recipe.hypervisorTools = { kind: "vmware-tools", version: "12", install: "{file} /S /v\"/qn\" /p:Secret1" };
    if (recipe.vda) recipe.vda.options = ["/quiet", "/controllers ddc1", "/password:Hunter22"];
    const problems = rule.check(ruleContext([recipeDoc(recipe)]));
    assert.deepEqual(problems.map((p) => p.pointer), ["/steps/0/run", "/seal/scripts/0/file", "/checks/0/run", "/hypervisorTools/install", "/vda/options/2"]);
    assert.ok(problems.every((p) => !JSON.stringify(p).match(/Winter2024|hunter2|Secret1|Hunter22/)), "a problem leaks the secret");
  });
  it("scans app install commands", () => {
    const app: App = { name: "agent", version: "1", source: { path: "a.msi" }, install: { windows: { command: 'msiexec /i {file} SERVICE_PASSWORD="x1y2z3"', shell: "cmd" } } };
    assert.deepEqual(rule.check(ruleContext([appDoc(app)])).map((p) => p.pointer), ["/install/windows/command"]);
  });
  it("accepts the clean base recipe", () => {
    assert.deepEqual(rule.check(ruleContext([recipeDoc(pvsRecipe())])), []);
  });
});
