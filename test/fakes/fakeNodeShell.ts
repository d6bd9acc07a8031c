/**
 * Test doubles for the core's ports (src/core/ports.ts): a scripted Proxmox node shell and pool,
 * a log sink that records, an instant sleep and a scripted network probe.
 *
 *   const alpha = new FakeNodeShell('alpha')
 *     .on('pvesh get /cluster/resources --type vm --output-format json', json(resources))
 *     .on(/\/tasks\/UPID:[^/]+\/status/, running, running, stopped)   // a sequence: one per call, the last repeats
 *     .on(/\/log /, connectionLost(), (cmd) => ({ stdout: '[]' }));      // errors and functions are answers too
 *   alpha.dropOn(/\/log /, 1);   // the 2nd matching call loses the connection, whatever the rules say
 *   alpha.commands   // every command line received, in order
 *
 * Rules are tried newest first, so a test can override a default answer by adding a rule. A command
 * no rule matches answers exit 127 (`fake node shell: no answer for …`) and is listed in `unmatched`,
 * so a missing answer shows up as a readable failure instead of a hang.
 */
import { CancelledError, LifeboatError, type LifeboatErrorReason } from '../../src/core/errors';
import type { LogSink, NetworkProbe, NodeAddress, NodeShell, NodeShellPool, RemoteResult, RemoteRunOptions, Sleep } from '../../src/core/ports';

/** What the node answers; missing fields are exit 0 and empty output. */
export interface Reply {
  readonly code?: number | null;
  readonly stdout?: string;
  readonly stderr?: string;
}

/** A reply, an error to reject with (e.g. `connectionLost()`), or a function computing either. */
export type Answer = Reply | Error | ((command: string, call: AnswerCall) => Reply | Error | Promise<Reply | Error>);

export interface AnswerCall {
  /** 0-based index of this call among the calls that matched the same rule. */
  readonly index: number;
  readonly options: RemoteRunOptions | undefined;
}

interface Rule {
  readonly match: string | RegExp;
  readonly answers: readonly Answer[];
  calls: number;
}

/** A pvesh JSON answer: compact JSON and a newline, as `--output-format json` prints it. */
export function json(value: unknown): Reply {
  return { code: 0, stdout: JSON.stringify(value) + '\n', stderr: '' };
}

/** A command that failed the way Proxmox CLIs fail: message on stderr, exit 255 unless told. */
export function fail(stderr: string, code = 255): Reply {
  return { code, stdout: '', stderr: stderr.endsWith('\n') ? stderr : stderr + '\n' };
}

/** The SSH adapter's error when the connection drops mid-command. */
export function connectionLost(node = 'node'): LifeboatError {
  return new LifeboatError('connectionLost', `the connection to ${node} was lost`, { node });
}

export class FakeNodeShell implements NodeShell {
  /** Every command line received, in order (including refused and cancelled ones). */
  readonly commands: string[] = [];
  /** Commands no rule answered. */
  readonly unmatched: string[] = [];
  private readonly rules: Rule[] = [];
  private readonly drops: { match: string | RegExp; calls: Set<number>; seen: number }[] = [];

  constructor(readonly node: string) {}

  /** Answers `match` (exact command line, or a regex tested against it) with `answers` in turn; the last one repeats. */
  on(match: string | RegExp, ...answers: Answer[]): this {
    if (answers.length === 0) throw new Error('on(): give at least one answer');
    this.rules.unshift({ match, answers, calls: 0 });
    return this;
  }

  /**
   * The matching calls numbered in `calls` (0-based, counted among commands matching `match`) reject
   * with `connectionLost` instead of being answered; the other calls get their usual answers.
   */
  dropOn(match: string | RegExp, ...calls: number[]): this {
    this.drops.push({ match, calls: new Set(calls), seen: 0 });
    return this;
  }

  /** How many received commands match. */
  count(match: string | RegExp): number {
    return this.commands.filter((c) => matches(match, c)).length;
  }

  async exec(command: string, options?: RemoteRunOptions): Promise<RemoteResult> {
    this.commands.push(command);
    const signal = options?.signal;
    if (signal?.aborted) throw new CancelledError();
    for (const d of this.drops) {
      if (matches(d.match, command) && d.calls.has(d.seen++)) throw connectionLost(this.node);
    }
    const rule = this.rules.find((r) => matches(r.match, command));
    let answer: Answer;
    let index = 0;
    if (!rule) {
      this.unmatched.push(command);
      answer = { code: 127, stderr: `fake node shell: no answer for: ${command}\n` };
    } else {
      index = rule.calls++;
      answer = rule.answers[Math.min(index, rule.answers.length - 1)]!;
    }
    const computed = typeof answer === 'function' ? answer(command, { index, options }) : answer;
    const settled = await raceAbort(Promise.resolve(computed), signal);
    if (settled instanceof Error) throw settled;
    const result: RemoteResult = { code: settled.code === undefined ? 0 : settled.code, stdout: settled.stdout ?? '', stderr: settled.stderr ?? '' };
    if (result.stdout) options?.onStdout?.(result.stdout);
    if (result.stderr) options?.onStderr?.(result.stderr);
    return result;
  }
}

function matches(match: string | RegExp, command: string): boolean {
  return typeof match === 'string' ? match === command : match.test(command);
}

/** Rejects with CancelledError as soon as `signal` aborts (an answer may be a never-settling promise). */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new CancelledError());
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** A pool of fake shells by node name; a node can be made unreachable (every command rejects). */
export class FakeNodeShellPool implements NodeShellPool {
  /** Addresses asked for, in order. */
  readonly requested: NodeAddress[] = [];
  disposed = false;
  private readonly shells = new Map<string, FakeNodeShell>();
  private readonly down = new Map<string, LifeboatErrorReason>();

  constructor(...shells: FakeNodeShell[]) {
    for (const s of shells) this.shells.set(s.node, s);
  }

  add(shell: FakeNodeShell): this {
    this.shells.set(shell.node, shell);
    return this;
  }

  /** Every command on `node` rejects with a LifeboatError of `reason` (default hostUnreachable), as the SSH adapter does. */
  unreachable(node: string, reason: LifeboatErrorReason = 'hostUnreachable'): this {
    this.down.set(node, reason);
    return this;
  }

  get(node: string): FakeNodeShell {
    const s = this.shells.get(node);
    if (!s) throw new Error(`no fake shell for node ${node}`);
    return s;
  }

  shell(address: NodeAddress): NodeShell {
    this.requested.push(address);
    const reason = this.down.get(address.name);
    if (reason) {
      return { node: address.name, exec: async () => { throw new LifeboatError(reason, `ssh root@${address.host}: connect ECONNREFUSED`, { node: address.name }); } };
    }
    return this.get(address.name);
  }

  dispose(): void {
    this.disposed = true;
  }
}

/** A LogSink that keeps every line, as `level: text`. */
export class RecordingLogSink implements LogSink {
  readonly lines: string[] = [];
  trace(message: string): void { this.lines.push(`trace: ${message}`); }
  debug(message: string): void { this.lines.push(`debug: ${message}`); }
  info(message: string): void { this.lines.push(`info: ${message}`); }
  warn(message: string): void { this.lines.push(`warn: ${message}`); }
  error(message: string | Error): void { this.lines.push(`error: ${message instanceof Error ? message.message : message}`); }
  /** Lines containing `text`. */
  grep(text: string | RegExp): string[] {
    return this.lines.filter((l) => (typeof text === 'string' ? l.includes(text) : text.test(l)));
  }
}

/** A Sleep that returns at once (but still honours an aborted signal); counts its calls. */
export function instantSleep(): Sleep & { calls: number[] } {
  const calls: number[] = [];
  const sleep = async (ms: number, signal?: AbortSignal) => {
    calls.push(ms);
    await Promise.resolve();
    if (signal?.aborted) throw new CancelledError();
  };
  return Object.assign(sleep, { calls });
}

/**
 * A NetworkProbe with scripted answers: addresses listed in `tcpOpen` accept TCP on any port;
 * everything else is closed. `ping` answers `pingAnswer` (default `ok`); `http` answers from
 * `httpAnswers` by URL, else `{ error: 'ECONNREFUSED' }`. Records every probe.
 */
export class FakeProbe implements NetworkProbe {
  readonly probes: string[] = [];
  readonly tcpOpen = new Set<string>();
  pingAnswer: 'ok' | 'failed' | 'unavailable' = 'ok';
  readonly httpAnswers = new Map<string, { status: number; body: string } | { error: string }>();

  constructor(open: readonly string[] = []) {
    for (const a of open) this.tcpOpen.add(a);
  }

  async tcp(host: string, port: number, _timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    this.probes.push(`tcp ${host}:${port}`);
    if (signal?.aborted) throw new CancelledError();
    return this.tcpOpen.has(host);
  }

  async ping(host: string, _timeoutMs: number, signal?: AbortSignal): Promise<'ok' | 'failed' | 'unavailable'> {
    this.probes.push(`ping ${host}`);
    if (signal?.aborted) throw new CancelledError();
    return this.pingAnswer;
  }

  async http(url: string, _timeoutMs: number, signal?: AbortSignal): Promise<{ status: number; body: string } | { error: string }> {
    this.probes.push(`http ${url}`);
    if (signal?.aborted) throw new CancelledError();
    return this.httpAnswers.get(url) ?? { error: 'ECONNREFUSED' };
  }
}
