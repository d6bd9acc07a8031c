/**
 * A secret read from the operator's repository (an API token, a password) or a placeholder that
 * names where the real value lives (`${MINIO_ROOT_PASSWORD:?required}` → the environment variable).
 *
 * The value is held in a private field and every way of turning the object into text
 * (`String(s)`, template literals, `JSON.stringify`, `util.inspect`) yields a redacted marker,
 * so a secret cannot reach a log line, a report or a tree label by accident.
 */
export const REDACTED = '«redacted»';

export type SecretSource =
  | { readonly kind: 'literal' }
  | { readonly kind: 'environment'; readonly variable: string; readonly required: boolean };

export class Secret {
  readonly #value: string | undefined;

  private constructor(value: string | undefined, readonly source: SecretSource) {
    this.#value = value;
  }

  static literal(value: string): Secret {
    return new Secret(value, { kind: 'literal' });
  }

  /** A placeholder: the value is looked up in `env` now (the CLI) or supplied later (SecretStorage). */
  static fromEnvironment(variable: string, required: boolean, env: Readonly<Record<string, string | undefined>>): Secret {
    return new Secret(env[variable], { kind: 'environment', variable, required });
  }

  /** True when a value is known (a literal, or the named environment variable is set). */
  get available(): boolean {
    return this.#value !== undefined && this.#value !== '';
  }

  /** The only way to read the value; call it at the point of use, never to build a message. */
  reveal(): string | undefined {
    return this.#value;
  }

  /** A copy with the value supplied from elsewhere (VS Code SecretStorage, a prompt). */
  withValue(value: string): Secret {
    return new Secret(value, this.source);
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): { redacted: true; source: SecretSource; available: boolean } {
    return { redacted: true, source: this.source, available: this.available };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Secret(${this.source.kind === 'environment' ? '$' + this.source.variable : 'literal'}, ${REDACTED})`;
  }
}

/** Key names whose values are secrets even when they are plain literals. */
export function isSecretKey(key: string): boolean {
  return /(password|passwd|secret|token|api_key|access_key|private_key)/i.test(key);
}
