/**
 * The ways a credential is written into text: command-line parameters and switches, MSI-style
 * properties, `net user`, `chpasswd`, and the user:password part of a URL. The secret-literal
 * rule reports them; {@link maskSecrets} hides whatever slipped past validation in everything
 * rebake prints or writes. One list, so what is refused and what is masked cannot drift apart.
 */

export interface SecretPattern {
  readonly what: string;
  /** Global; the named group `quoted` or `bare` is the credential. */
  readonly pattern: RegExp;
}

/** A value, quoted (JSON-escaped quotes too: output is masked after JSON.stringify) or bare. */
const QUOTED_OR_BARE = String.raw`(?:(?<q>\\?['"])(?<quoted>[^'"\r\n\\]+)\k<q>|(?<bare>[^\s'";|&\\]+))`;
/** The same, for a value that cannot be a flag: `-AsPlainText` after ConvertTo-SecureString is a switch. */
const VALUE_NOT_FLAG = String.raw`(?:(?<q>\\?['"])(?<quoted>[^'"\r\n\\]+)\k<q>|(?<bare>(?!-)[^\s'";|&\\]+))`;

/** `scheme://user:password@host`: the password part. */
export const URL_CREDENTIALS: SecretPattern = {
  what: "a password in a URL",
  pattern: /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@'"]+:(?<bare>[^\s@/'"\\]+)@/gi,
};

export const SECRET_PATTERNS: readonly SecretPattern[] = [
  {
    what: "a literal password parameter",
    pattern: new RegExp(String.raw`(?<![\w-])-(?:Password|Passwd|Secret|Token|ApiKey|AccessKey|ProductKey)[\s:]+${VALUE_NOT_FLAG}`, "gi"),
  },
  {
    what: "a literal password turned into a SecureString",
    pattern: new RegExp(String.raw`ConvertTo-SecureString\s+(?:-String\s+)?${VALUE_NOT_FLAG}`, "gi"),
  },
  {
    what: "a literal password switch",
    pattern: new RegExp(String.raw`(?<![\w/:])/(?:p|pd|po|pass|password|passwordd|passwordo|pwd)[:=]${QUOTED_OR_BARE}`, "gi"),
  },
  {
    what: "a literal password option",
    pattern: new RegExp(String.raw`(?<![\w-])--(?:password|passwd|secret|token|api-key)(?:=|\s+)${VALUE_NOT_FLAG}`, "gi"),
  },
  {
    what: "a password assigned as a literal",
    pattern: /(?:\$\{?)?\b[A-Za-z_]*(?:password|passwd|pwd|secret|token|api_?key)\}?\s*=\s*(?<q>\\?['"])(?<quoted>[^'"\r\n\\]+)\k<q>/gi,
  },
  {
    // MSI public properties and environment assignments: PROXY_PASSWORD=x, LICENSEKEY=x, DB_PWD=x.
    what: "a password property",
    pattern: new RegExp(String.raw`(?<![\w$.-])[A-Za-z_]*(?:PASSWORD|PASSWD|PWD)[A-Za-z_]*=${QUOTED_OR_BARE}|(?<![\w$.-])[A-Za-z_]*(?:KEY|SECRET|TOKEN)=${QUOTED_OR_BARE.replaceAll("<q>", "<q2>").replaceAll("<quoted>", "<quoted2>").replaceAll("<bare>", "<bare2>")}`, "gi"),
  },
  {
    what: "a password given to net user",
    pattern: /\bnet(?:\.exe)?\s+user\s+(?:"[^"\r\n]+"|[^\s/"]+)\s+(?:(?<q>\\?")(?<quoted>[^"\r\n\\]+)\k<q>|(?<bare>[^\s/"*][^\s"]*))/gi,
  },
  {
    what: "a password piped to chpasswd",
    pattern: /\b(?:echo|printf)\s+(?:-\w+\s+)?(?<q>\\?['"]?)[\w.-]+:(?<bare>[^\s'":|\\]+)\k<q>\s*\|\s*(?:sudo\s+)?chpasswd\b|\bchpasswd\s*<<<\s*(?<q2>\\?['"]?)[\w.-]+:(?<bare2>[^\s'"\\]+)\k<q2>/gi,
  },
  URL_CREDENTIALS,
  {
    what: "a Windows product key",
    pattern: /\b(?<bare>[A-Z0-9]{5}(?:-[A-Z0-9]{5}){4})\b/g,
  },
];

/**
 * Values that are not credentials: variables ($x, $env:X, %X%, ${X}), placeholders ({file},
 * <password>), secret references, the "prompt me" star, and MSBuild-style properties (/p:A=B).
 */
const NOT_A_LITERAL = /^(?:\$|%[^%]+%|\{[^}]*\}|<[^>]*>$|env:|pulumi:|\*$|\(|\[redacted\]|\*\*\*)|=/;

interface Found {
  readonly what: string;
  readonly secret: string;
  readonly match: RegExpMatchArray;
}

function* literalSecrets(text: string, patterns: readonly SecretPattern[] = SECRET_PATTERNS): Generator<Found> {
  for (const { what, pattern } of patterns) {
    for (const match of text.matchAll(pattern)) {
      const groups = match.groups ?? {};
      const secret = groups["quoted"] ?? groups["bare"] ?? groups["quoted2"] ?? groups["bare2"];
      if (secret === undefined || NOT_A_LITERAL.test(secret)) continue;
      yield { what, secret, match };
    }
  }
}

/** Found credentials, already masked for display: a secret must not reach logs through `got`. */
export function findLiteralSecrets(text: string, patterns: readonly SecretPattern[] = SECRET_PATTERNS): { readonly what: string; readonly shown: string }[] {
  const found: { what: string; shown: string }[] = [];
  // One credential can match several patterns (-ProductKey 'XXXXX-...'): report it once.
  const seen = new Set<string>();
  for (const { what, secret, match } of literalSecrets(text, patterns)) {
    if (seen.has(secret)) continue;
    seen.add(secret);
    found.push({ what, shown: match[0].replace(secret, mask(secret)) });
  }
  return found;
}

/** `text` with every credential any pattern finds replaced by its mask. */
export function maskSecrets(text: string): string {
  const secrets = new Set<string>();
  for (const { secret } of literalSecrets(text)) secrets.add(secret);
  if (secrets.size === 0) return text;
  let masked = text;
  for (const { pattern } of SECRET_PATTERNS) {
    masked = masked.replace(pattern, (whole: string, ...rest: unknown[]) => {
      const groups = rest.at(-1) as Record<string, string | undefined>;
      const secret = groups["quoted"] ?? groups["bare"] ?? groups["quoted2"] ?? groups["bare2"];
      return secret !== undefined && secrets.has(secret) ? whole.replace(secret, mask(secret)) : whole;
    });
  }
  return masked;
}

/** Keeps the last group of a product key (as Windows shows it); hides everything of a password. */
function mask(secret: string): string {
  const groups = secret.split("-");
  return groups.length === 5 && groups.every((g) => g.length === 5) ? [...groups.slice(0, 4).map(() => "*****"), groups[4]].join("-") : "***";
}
