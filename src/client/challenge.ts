/**
 * `WWW-Authenticate` challenges (RFC 7235 §4.1) as registries send them: distribution-spec "token authentication"
 * (docker/distribution docs/spec/auth/token.md) uses `Bearer realm="…",service="…",scope="…"`; htpasswd
 * registries send `Basic realm="…"`.
 */
export interface Challenge {
  readonly scheme: 'basic' | 'bearer';
  readonly realm?: string;
  readonly service?: string;
  readonly scope?: string;
}

/** Parses the first Basic or Bearer challenge of a header value; undefined when none is understood. */
export function parseChallenge(header: string | string[] | undefined): Challenge | undefined {
  const values = Array.isArray(header) ? header : header === undefined ? [] : [header];
  for (const value of values) {
    for (const challenge of splitChallenges(value)) {
      const scheme = challenge.scheme.toLowerCase();
      if (scheme !== 'basic' && scheme !== 'bearer') continue;
      const { realm, service, scope } = challenge.params;
      return {
        scheme,
        ...(realm !== undefined ? { realm } : {}),
        ...(service !== undefined ? { service } : {}),
        ...(scope !== undefined ? { scope } : {}),
      };
    }
  }
  return undefined;
}

interface RawChallenge {
  scheme: string;
  params: Record<string, string>;
}

/** Tokenizes `scheme k=v, k="v, with comma", scheme2 k=v` into challenges. */
function splitChallenges(value: string): RawChallenge[] {
  const out: RawChallenge[] = [];
  let i = 0;
  let current: RawChallenge | undefined;
  const skip = (chars: RegExp) => {
    while (i < value.length && chars.test(value[i]!)) i++;
  };
  while (i < value.length) {
    skip(/[\s,]/);
    const start = i;
    while (i < value.length && /[^\s,=]/.test(value[i]!)) i++;
    const token = value.slice(start, i);
    if (!token) break;
    skip(/\s/);
    if (value[i] === '=' && current) {
      i++;
      skip(/\s/);
      let param = '';
      if (value[i] === '"') {
        i++;
        while (i < value.length && value[i] !== '"') {
          if (value[i] === '\\' && i + 1 < value.length) i++;
          param += value[i];
          i++;
        }
        i++;
      } else {
        const vStart = i;
        while (i < value.length && value[i] !== ',') i++;
        param = value.slice(vStart, i).trim();
      }
      current.params[token.toLowerCase()] = param;
    } else {
      current = { scheme: token, params: {} };
      out.push(current);
    }
  }
  return out;
}
