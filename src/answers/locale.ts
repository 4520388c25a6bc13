/**
 * The recipe's locale (BCP 47, e.g. "en-US") in the spellings each installer wants: Windows takes
 * language-region ("en-US"), glibc takes language_REGION.charset ("en_US.UTF-8").
 */
import type { Recipe } from "../recipe/model.ts";

/** Matches the @default of OsSpec.locale. */
export const DEFAULT_LOCALE = "en-US";

export interface InstallerLocale {
  /** language-region, as Windows Setup's UILanguage/UserLocale/SystemLocale/InputLocale take it. */
  readonly windows: string;
  /** language_REGION.UTF-8, as cloud-init's `locale` takes it. */
  readonly posix: string;
}

/** The locale has no region, which both installers need. */
export class LocaleError extends Error {
  constructor(message: string, readonly locale: string) {
    super(message);
    this.name = new.target.name;
  }
}

const LANGUAGE = /^[a-z]{2,3}$/i;
const SCRIPT = /^[a-z]{4}$/i;
const REGION = /^([a-z]{2}|[0-9]{3})$/i;

/** Splits a BCP 47 tag into language and region (a script subtag such as Hans is skipped). */
export function installerLocale(recipe: Recipe): InstallerLocale {
  const tag = recipe.os.locale ?? DEFAULT_LOCALE;
  const [language, ...rest] = tag.split("-");
  const subtags = rest[0] !== undefined && SCRIPT.test(rest[0]) ? rest.slice(1) : rest;
  const region = subtags[0];
  if (language === undefined || !LANGUAGE.test(language) || region === undefined || !REGION.test(region)) {
    throw new LocaleError(
      `os.locale must name a language and a region (Windows and glibc locales need both), got: ${JSON.stringify(tag)}; write e.g. "en-US" or "de-DE"`,
      tag,
    );
  }
  const lang = language.toLowerCase();
  const reg = region.toUpperCase();
  return { windows: `${lang}-${reg}`, posix: `${lang}_${reg}.UTF-8` };
}
