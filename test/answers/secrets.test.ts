import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  InvalidSecretRefError,
  REDACTED,
  SecretNotFoundError,
  SecretsMissingError,
  secretErrors,
  createSecretResolver,
  redact,
  resolveSecret,
  type SecretSources,
} from "../../src/recipe/secrets.ts";

const VALUE = "s3cr3t-VALUE-do-not-print";
const PULUMI: Readonly<Record<string, string>> = { "win:productKey": VALUE, empty: "" };
const WITH_STACK: SecretSources = { env: { WIN_KEY: VALUE, EMPTY: "" }, pulumi: (key) => PULUMI[key] };
const WITHOUT_STACK: SecretSources = { env: { WIN_KEY: VALUE } };

describe("resolveSecret", () => {
  const RESOLVES = [
    { ref: "env:WIN_KEY", sources: WITH_STACK },
    { ref: "pulumi:win:productKey", sources: WITH_STACK },
  ];
  for (const { ref, sources } of RESOLVES) {
    test(`resolves ${ref}`, () => assert.equal(resolveSecret(ref, sources), VALUE));
  }

  const FAILS = [
    { ref: "env:MISSING", sources: WITH_STACK, error: SecretNotFoundError, hint: /export the environment variable MISSING/ },
    { ref: "env:EMPTY", sources: WITH_STACK, error: SecretNotFoundError, hint: /export the environment variable EMPTY/ },
    { ref: "pulumi:nope", sources: WITH_STACK, error: SecretNotFoundError, hint: /pulumi config set nope --secret/ },
    { ref: "pulumi:empty", sources: WITH_STACK, error: SecretNotFoundError, hint: /pulumi config set empty --secret/ },
    { ref: "pulumi:win:productKey", sources: WITHOUT_STACK, error: SecretNotFoundError, hint: /needs a Pulumi stack.*env:NAME/ },
    { ref: "WIN_KEY", sources: WITH_STACK, error: InvalidSecretRefError, hint: /env:NAME.*pulumi:key/ },
    { ref: "vault:WIN_KEY", sources: WITH_STACK, error: InvalidSecretRefError, hint: /env:NAME.*pulumi:key/ },
    { ref: "env:1BAD", sources: WITH_STACK, error: InvalidSecretRefError, hint: /env:NAME/ },
  ];
  for (const { ref, sources, error, hint } of FAILS) {
    test(`${ref} fails with ${error.name}, naming the reference and the fix but never a value`, () => {
      assert.throws(
        () => resolveSecret(ref, sources),
        (thrown: Error) => {
          assert.ok(thrown instanceof error);
          assert.equal((thrown as SecretNotFoundError).ref, ref);
          assert.ok(thrown.message.includes(ref), thrown.message);
          assert.match(thrown.message, hint);
          assert.ok(!thrown.message.includes(VALUE));
          return true;
        },
      );
    });
  }
});

describe("secretErrors and SecretsMissingError", () => {
  const missing = (refs: readonly string[], sources: SecretSources) => new SecretsMissingError(secretErrors(refs, sources));

  test("nothing when every reference resolves", () => {
    assert.deepEqual(secretErrors(["env:WIN_KEY", "pulumi:win:productKey", "env:WIN_KEY"], WITH_STACK), []);
  });

  test("names every reference that fails, once each, with its fix, never a value", () => {
    const thrown = missing(["env:WIN_KEY", "pulumi:nope", "env:MISSING", "pulumi:win:productKey", "pulumi:nope"], WITH_STACK);
    assert.equal(thrown.rule, "secret-not-found");
    assert.deepEqual(thrown.errors.map((e) => e.ref), ["pulumi:nope", "env:MISSING"]);
    assert.match(thrown.message, /^2 secrets cannot be resolved:\n {2}- secret pulumi:nope .*pulumi config set nope --secret.*\n {2}- secret env:MISSING .*export the environment variable MISSING/);
    assert.ok(!thrown.message.includes(VALUE));
  });

  test("one failure reads as that failure alone", () => {
    assert.match(missing(["pulumi:win:productKey"], WITHOUT_STACK).message, /^secret pulumi:win:productKey needs a Pulumi stack.*--stack NAME/);
  });

  test("a malformed reference is invalid-secret-ref", () => {
    assert.equal(missing(["vault:x", "env:MISSING"], WITH_STACK).rule, "invalid-secret-ref");
  });
});

describe("createSecretResolver", () => {
  test("remembers each resolved value for redaction", () => {
    const resolve = createSecretResolver(WITH_STACK);
    assert.equal(resolve("env:WIN_KEY"), VALUE);
    assert.deepEqual([...resolve.resolved], [VALUE]);
  });
});

describe("redact", () => {
  const CASES = [
    { name: "masks every occurrence", text: `key=${VALUE} again ${VALUE}`, secrets: [VALUE], expected: `key=${REDACTED} again ${REDACTED}` },
    { name: "masks the longer of two overlapping secrets whole", text: "pw=abcdef", secrets: ["abc", "abcdef"], expected: `pw=${REDACTED}` },
    { name: "treats regex characters literally", text: "a.b a+b", secrets: ["a+b"], expected: `a.b ${REDACTED}` },
    { name: "ignores empty secrets", text: "unchanged", secrets: [""], expected: "unchanged" },
    { name: "never rewrites its own mask", text: "x=red", secrets: ["red", "acted"], expected: `x=${REDACTED}` },
  ];
  for (const c of CASES) test(c.name, () => assert.equal(redact(c.text, c.secrets), c.expected));
});
