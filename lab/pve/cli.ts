/**
 * Plumbing shared by the simulated tools: the invocation context, Proxmox-style errors with exit
 * codes, the PVE CLI option parser (`--opt value`, `-opt value`, `--opt=value`, bare booleans),
 * and the time scale.
 */

export interface Ctx {
  /** The state directory (`PVE_SIM_STATE`). */
  readonly stateDir: string;
  /** The node this tool runs on (`PVE_SIM_NODE`). */
  readonly node: string;
  /** The bundled script (`out/lab/pve.cjs`), used to spawn detached task workers. */
  readonly script: string;
}

/** An error raised before any task starts: message on stderr, exit code (255 = Perl `die`). */
export class ToolError extends Error {
  constructor(
    message: string,
    readonly exitCode = 255,
  ) {
    super(message);
  }
}

/** `400 Parameter verification failed.` with `<param>: <reason>` lines and the usage. */
export function paramError(errors: Record<string, string>, usage: string): ToolError {
  const lines = Object.entries(errors).map(([k, v]) => `${k}: ${v}`);
  return new ToolError(['400 Parameter verification failed.', ...lines, '', usage].join('\n'));
}

export interface Parsed {
  readonly positional: string[];
  readonly opts: Record<string, string>;
}

const BOOL_VALUES = new Set(['0', '1', 'yes', 'no', 'true', 'false', 'on', 'off']);

/**
 * Parses PVE CLI arguments. `booleans` may appear bare (`--force`) or with a value (`--force 1`);
 * `known` lists every valued option; anything else is a schema error, like PVE's getopt.
 */
export function parseArgs(args: readonly string[], known: readonly string[], booleans: readonly string[], usage: string): Parsed {
  const positional: string[] = [];
  const opts: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const m = /^--?([a-zA-Z][\w-]*)(?:=(.*))?$/s.exec(a);
    if (!m) {
      positional.push(a);
      continue;
    }
    const name = m[1]!;
    if (booleans.includes(name)) {
      if (m[2] !== undefined) opts[name] = m[2];
      else if (i + 1 < args.length && BOOL_VALUES.has(args[i + 1]!)) opts[name] = args[++i]!;
      else opts[name] = '1';
      opts[name] = ['1', 'yes', 'true', 'on'].includes(opts[name]!) ? '1' : '0';
    } else if (known.includes(name)) {
      if (m[2] !== undefined) opts[name] = m[2];
      else if (i + 1 < args.length) opts[name] = args[++i]!;
      else throw paramError({ [name]: 'missing value' }, usage);
    } else {
      throw paramError({ [name]: 'property is not defined in schema and the schema does not allow additional properties' }, usage);
    }
  }
  return { positional, opts };
}

/** PVE_SIM_TIME_SCALE (default 1): every simulated duration is multiplied by it. */
export function timeScale(): number {
  const v = Number(process.env.PVE_SIM_TIME_SCALE ?? '1');
  return Number.isFinite(v) && v >= 0 ? v : 1;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}

/** Sleeps a simulated duration (scaled). */
export function simSleep(ms: number): Promise<void> {
  return sleep(ms * timeScale());
}

export function write(stream: NodeJS.WriteStream, text: string): void {
  try {
    stream.write(text);
  } catch {
    /* the SSH channel may be gone; the task goes on */
  }
}

/** Where tool output goes: the process streams, or a test's capture (runToolInProcess). */
let sink: { out(text: string): void; err(text: string): void } | undefined;
export function setOutputSink(s: typeof sink): void {
  sink = s;
}

export const out = (text: string): void => (sink ? sink.out(text) : write(process.stdout, text));
export const err = (text: string): void => (sink ? sink.err(text) : write(process.stderr, text));

export function vmidArg(v: string | undefined, usage: string): number {
  if (v === undefined) throw paramError({ vmid: 'property is missing and it is not optional' }, usage);
  if (!/^[1-9][0-9]{2,8}$/.test(v)) throw paramError({ vmid: `type check ('integer') failed - got '${v}'` }, usage);
  return Number(v);
}
