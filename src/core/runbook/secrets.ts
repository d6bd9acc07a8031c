/**
 * Masking for what a run log and a report keep of commands and their output: values of environment
 * variables whose names look secret, and `password=…` / `token=…` style assignments.
 */
export const MASK = '«redacted»';

const SECRET_NAME = /pass(word|wd|phrase)?|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential/i;

/**
 * A `<placeholder>` whose value is a secret: asked in a password box, masked in the run log, the
 * output channel and the confirmation (`<minio-password>`, `<api_token>`, `<secret>`, `<ssh-key>`).
 */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name) || /key/i.test(name);
}

/** The values to mask: environment variables with secret-looking names and values of 4+ characters. */
export function secretValues(env: Readonly<Record<string, string | undefined>>): string[] {
  return Object.entries(env)
    .filter(([name, value]) => SECRET_NAME.test(name) && typeof value === 'string' && value.length >= 4)
    .map(([, value]) => value as string)
    .sort((a, b) => b.length - a.length);
}

/** Masks known secret values and `password=`, `token=`, `secret=` (also `:` and `--password x`) assignments. */
export function maskSecrets(text: string, values: readonly string[] = []): string {
  let out = text;
  for (const v of values) if (v) out = out.split(v).join(MASK);
  // Names and quoted values are bounded so a long line costs linear time.
  const value = `("[^"\\n]{0,200}"|'[^'\\n]{0,200}'|[^\\s"'&;,]+)`;
  const masked = (v: string) => (v.startsWith('"') || v.startsWith("'") ? `${v[0]}${MASK}${v[0]}` : MASK);
  out = out.replace(new RegExp(`([A-Za-z0-9_.-]{1,64})(\\s{0,3}[=:]\\s{0,3})${value}`, 'g'), (whole, name: string, sep: string, v: string) =>
    SECRET_NAME.test(name) && !v.includes(MASK) ? `${name}${sep}${masked(v)}` : whole);
  out = out.replace(new RegExp(`(--?[A-Za-z0-9_-]{1,64})(\\s{1,3})${value}`, 'g'), (whole, name: string, sep: string, v: string) =>
    SECRET_NAME.test(name) && !v.startsWith('-') && !v.includes(MASK) ? `${name}${sep}${masked(v)}` : whole);
  return out;
}
