import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { buildHostname } from "../../src/answers/hostname.ts";
import { installerLocale } from "../../src/answers/locale.ts";
import { ADMIN_PASSWORD_LENGTH, generateAdminPassword } from "../../src/answers/password.ts";
import { ianaTimeZone, windowsTimeZone } from "../../src/answers/timezone.ts";
import { linuxRecipe } from "./recipes.ts";

describe("installer locale", () => {
  const CASES = [
    { locale: undefined, windows: "en-US", posix: "en_US.UTF-8" },
    { locale: "de-DE", windows: "de-DE", posix: "de_DE.UTF-8" },
    { locale: "fr-ca", windows: "fr-CA", posix: "fr_CA.UTF-8" },
    { locale: "zh-Hans-CN", windows: "zh-CN", posix: "zh_CN.UTF-8" },
  ];
  for (const c of CASES) {
    test(`${c.locale ?? "the default"} becomes ${c.windows} and ${c.posix}`, () => {
      assert.deepEqual(installerLocale(linuxRecipe({ os: { locale: c.locale } })), { windows: c.windows, posix: c.posix });
    });
  }
});

describe("time zones", () => {
  const CASES = [
    { given: undefined, iana: "UTC", windows: "UTC" },
    { given: "Europe/Berlin", iana: "Europe/Berlin", windows: "W. Europe Standard Time" },
    { given: "W. Europe Standard Time", iana: "Europe/Berlin", windows: "W. Europe Standard Time" },
    { given: "Pacific Standard Time", iana: "America/Los_Angeles", windows: "Pacific Standard Time" },
  ];
  for (const c of CASES) {
    test(`${c.given ?? "the default"} is ${c.iana} for cloud-init and ${c.windows} for Windows`, () => {
      const recipe = linuxRecipe({ os: { timezone: c.given } });
      assert.equal(ianaTimeZone(recipe), c.iana);
      assert.equal(windowsTimeZone(recipe), c.windows);
    });
  }

  test("an IANA zone without a Windows name is refused for Windows with the fix", () => {
    assert.throws(() => windowsTimeZone(linuxRecipe({ os: { timezone: "Antarctica/Troll" } })), /Antarctica\/Troll.*not a Windows zone rebake knows/);
  });
});

describe("host name", () => {
  const CASES = [
    { name: "short", hostname: undefined, expected: "short" },
    { name: "exactly-fifteen-x", hostname: undefined, expected: "exactly-fifteen" },
    { name: "abcdefghijklmn-tail", hostname: undefined, expected: "abcdefghijklmn" },
    { name: "ignored", hostname: "GOLD-01", expected: "GOLD-01" },
  ];
  for (const c of CASES) {
    test(`${c.hostname ?? c.name} gives ${c.expected}`, () => {
      assert.equal(buildHostname(linuxRecipe({ metadata: { name: c.name, version: "1.0.0" }, os: { hostname: c.hostname } })), c.expected);
    });
  }
});

describe("administrator password", () => {
  test("is long, uses all four character classes, and needs no quoting anywhere", () => {
    for (let i = 0; i < 200; i++) {
      const password = generateAdminPassword();
      assert.equal(password.length, ADMIN_PASSWORD_LENGTH);
      for (const cls of [/[a-z]/, /[A-Z]/, /[0-9]/, /[-_.+=#@]/]) assert.match(password, cls);
      assert.match(password, /^[A-Za-z0-9\-_.+=#@]+$/);
    }
  });

  test("draws every character from the random source it is given", () => {
    let n = 0;
    const password = generateAdminPassword((max) => n++ % max);
    assert.equal(password.length, ADMIN_PASSWORD_LENGTH);
  });
});
