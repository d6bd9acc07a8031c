/**
 * OpenSSH pattern lists (ssh_config(5) "PATTERNS"), shared by `Host` lines and known_hosts host
 * fields: `*` matches any run of characters, `?` exactly one, a leading `!` negates, and a matching
 * negated pattern makes the whole list fail whatever else matches. Host names compare
 * case-insensitively, as OpenSSH lower-cases them before matching.
 */

function patternToRegExp(pattern: string): RegExp {
  let source = '';
  for (const ch of pattern) {
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else source += ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'is');
}

export function matchPattern(pattern: string, text: string): boolean {
  return patternToRegExp(pattern).test(text);
}

/** True when some positive pattern matches and no negated one does. */
export function matchPatternList(patterns: readonly string[], text: string): boolean {
  let matched = false;
  for (const raw of patterns) {
    if (raw === '') continue;
    if (raw.startsWith('!')) {
      if (matchPattern(raw.slice(1), text)) return false;
    } else if (matchPattern(raw, text)) {
      matched = true;
    }
  }
  return matched;
}
