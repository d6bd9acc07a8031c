/**
 * The host side of the runbook checklist: one webview panel per runbook file, restored after a reload
 * by a serializer. The webview only asks; this side validates each message, asks the operator
 * (placeholders, destructive commands: modal, default no), runs commands with `bash -c` in the
 * workspace folder, streams output to the step and to the "Lifeboat" channel, and records everything
 * in the run log next to the runbook.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  ChecklistError, MASK, changedSteps, closeIfComplete, commandRunning, destructiveReason, destructiveReasonText, failureMessage, fillPlaceholders, finishStep, isSecretName,
  lifeboatMappingOf, markStepDone, maskSecrets, msg, newRunLog, parseRunbook, procedureVerdict, recordCommand, remainingSteps, reopenStep, reportFileName,
  resumeRunLog, retryStep, runbookReportMarkdown, secretValues, setCheck, shellSensitive, skipStep, startStep, translate, translateArg,
  type LifeboatMapping, type Message, type Runbook, type RunbookCommand, type RunbookStep, type RunLog, type StepFailure,
} from '../../core';
import { assertNever, runbookLabelKeys, type BusyState, type RunbookLabels, type RunbookSession, type ToHost, type ToWebview } from '../../shared/runbookMessages';
import { describeError } from '../../shared/errorText';
import type { Services } from '../services';
import type { RecoveryNode } from '../views/recoveryTree';
import { confirmDefaultNo } from '../platform/confirm';
import { requireTrust } from '../platform/trust';
import { parseToHost } from './messages';
import { readRunLog, RunLogWriter } from './runLogStore';
import { runShell, type ShellRun } from './shellRunner';

export const RUNBOOK_VIEW_TYPE = 'lifeboat.runbook';
const OUTPUT_TAIL = 4_000;

const say = (m: Message): string => translate(m, vscode.l10n.t);
const reasonText = (reason: string): string => translateArg(destructiveReasonText(reason), vscode.l10n.t);

/** Why each command of the runbook asks first, in the operator's words: reason → text. */
function reasonTexts(runbook: Runbook): Record<string, string> {
  const reasons = new Set(runbook.steps.flatMap((s) => s.commands.flatMap((c) => (c.destructive ? [c.destructive] : []))));
  return Object.fromEntries([...reasons].map((r) => [r, reasonText(r)]));
}

/** A command ready to run: every question answered. */
interface Prepared {
  /** The command as it runs: placeholders filled with the values typed. */
  readonly run: string;
  /** As it is shown and recorded: secret placeholders and secret environment values masked. */
  readonly shown: string;
  /** Why it asks first, judged on the filled text. */
  readonly destructive?: string;
  /** Placeholders whose values hold characters the shell interprets. */
  readonly shellValues: readonly string[];
}

interface Preparation {
  readonly commands: ReadonlyMap<string, Prepared>;
  /** Values typed for secret-looking placeholders: masked in the run log, the output channel and the page. */
  readonly secrets: readonly string[];
}

function labels(): RunbookLabels {
  const t = vscode.l10n.t;
  const all: Record<(typeof runbookLabelKeys)[number], string> = {
    runAll: t('Run all remaining'), runStep: t('Run step'), run: t('Run'), runWithLifeboat: t('Run with Lifeboat'), stop: t('Stop'),
    retry: t('Retry'), skip: t('Skip…'), markDone: t('Mark done'), reopen: t('Reopen'), exportReport: t('Export report'), newRun: t('New run'),
    elapsed: t('Recovery time'), rtoTarget: t('RTO target'), noRto: t('No RTO target stated'), estimate: t('estimate'), notStarted: t('not started'),
    prerequisites: t('Before you start'), checklist: t('Checklist'), commands: t('Commands'), expected: t('Expected'), warning: t('Warning'),
    output: t('Output'), changed: t('changed since the run started'), partlyRun: t('partly run'),
    restricted: t('Restricted Mode: commands do not run until you trust this folder.'),
    pending: t('pending'), running: t('running'), done: t('done'), failed: t('failed'), skipped: t('skipped'), doneManually: t('done (by hand)'),
    destructive: t('asks first'), noSteps: t('No steps found in this runbook.'), exitCode: t('exit code'), retries: t('retries'),
    skipReason: t('skipped because'), overEstimate: t('longer than the estimate'), placeholders: t('asks for'), openSource: t('Show in Markdown'),
    limits: t('Not read'),
  };
  return all;
}

/** The panel of one runbook file. */
export class RunbookPanel implements vscode.Disposable {
  private runbook: Runbook;
  private patterns: readonly string[];
  private log: RunLog | undefined;
  private busy: BusyState | null = null;
  private current: ShellRun | undefined;
  private stopRequested = false;
  private ready = false;
  private readonly placeholderValues = new Map<string, string>();
  private readonly writer: RunLogWriter;
  private readonly disposables: vscode.Disposable[] = [];
  private idle: Promise<void> = Promise.resolve();
  private readonly onDisposeEmitter = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.onDisposeEmitter.event;

  private constructor(
    readonly file: string,
    readonly panel: vscode.WebviewPanel,
    private readonly s: Services,
    private readonly extensionUri: vscode.Uri,
    loaded: Loaded,
    log: RunLog | undefined,
  ) {
    this.runbook = loaded.runbook;
    this.patterns = loaded.patterns;
    this.log = log;
    this.writer = new RunLogWriter(file, (err) => s.log.warn(`[runbook] could not write the run log: ${String(err)}`));
    panel.webview.options = { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')] };
    panel.webview.html = this.html();
    this.disposables.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => void this.receive(raw)),
      panel.onDidDispose(() => this.dispose()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.sendSession()),
    );
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(path.dirname(file)), path.basename(file)));
    watcher.onDidChange(() => void this.reload());
    this.disposables.push(watcher);
  }

  /** Opens (or creates) the panel of a runbook file; `panel` is given when the serializer restores one. */
  static async create(file: string, s: Services, extensionUri: vscode.Uri, panel?: vscode.WebviewPanel): Promise<RunbookPanel> {
    const loaded = await loadRunbook(file);
    const saved = await readRunLog(file);
    const log = saved ? resumeRunLog(saved, loaded.runbook, new Date()) : undefined;
    const p = panel ?? vscode.window.createWebviewPanel(RUNBOOK_VIEW_TYPE, '', { viewColumn: vscode.ViewColumn.Active, preserveFocus: false }, { enableScripts: true, retainContextWhenHidden: true });
    p.title = vscode.l10n.t('Checklist: {0}', path.basename(file));
    p.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'lifeboat.svg');
    const created = new RunbookPanel(file, p, s, extensionUri, loaded, log);
    if (saved && log !== saved) void created.writer.write(log);
    return created;
  }

  /** The run log as it is now (tests read it). */
  get runLog(): RunLog | undefined {
    return this.log;
  }

  get model(): Runbook {
    return this.runbook;
  }

  /** Resolves when nothing is running. */
  whenIdle(): Promise<void> {
    return this.idle;
  }

  reveal(): void {
    this.panel.reveal();
  }

  private workspaceFolder(): string {
    return vscode.workspace.getWorkspaceFolder(vscode.Uri.file(this.file))?.uri.fsPath ?? path.dirname(this.file);
  }

  private relativePath(): string {
    return path.relative(this.workspaceFolder(), this.file) || path.basename(this.file);
  }

  private html(): string {
    const webview = this.panel.webview;
    const nonce = randomBytes(18).toString('base64url');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview.js'));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview.css'));
    const csp = [
      "default-src 'none'",
      `script-src 'nonce-${nonce}'`,
      `style-src ${webview.cspSource}`,
      `font-src ${webview.cspSource}`,
      `img-src ${webview.cspSource}`,
    ].join('; ');
    // Only fixed text and URIs of our own files here: the runbook reaches the page by postMessage.
    return `<!DOCTYPE html>
<html lang="${vscode.env.language}">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style.toString()}">
<title>Lifeboat runbook</title>
</head>
<body>
<main id="app" aria-live="polite"></main>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
  }

  private post(message: ToWebview): void {
    if (!this.ready) return;
    void this.panel.webview.postMessage(message);
  }

  private async lifeboatCommands(): Promise<string[]> {
    const all = await vscode.commands.getCommands(true);
    return all.filter((c) => c.startsWith('lifeboat.'));
  }

  private sendSession(): void {
    void this.lifeboatCommands().then((lifeboatCommands) => {
      const session: RunbookSession = { runbook: this.runbook, path: this.relativePath(), trusted: vscode.workspace.isTrusted, lifeboatCommands, labels: labels(), limits: this.runbook.limits.map(say), reasons: reasonTexts(this.runbook) };
      this.post({ type: 'session', session, log: this.log ?? null, changed: this.log ? changedSteps(this.log, this.runbook) : [], failures: this.failures(), busy: this.busy, now: new Date().toISOString() });
    });
  }

  private sendState(): void {
    this.post({ type: 'state', log: this.log ?? null, changed: this.log ? changedSteps(this.log, this.runbook) : [], failures: this.failures(), busy: this.busy, now: new Date().toISOString() });
  }

  /** Why each failed step failed, in the operator's language (the run log keeps it as data). */
  private failures(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [id, rec] of Object.entries(this.log?.steps ?? {})) if (rec.status === 'failed') out[id] = say(failureMessage(rec.failure));
    return out;
  }

  /** Applies a change to the run log, saves it and shows it. */
  private update(change: (log: RunLog) => RunLog): void {
    const now = new Date();
    const base = this.log ?? newRunLog(this.runbook, this.relativePath(), now, os.userInfo().username);
    this.log = closeIfComplete(change(base), this.runbook, now);
    void this.writer.write(this.log);
    this.sendState();
  }

  private async reload(): Promise<void> {
    try {
      const loaded = await loadRunbook(this.file);
      this.runbook = loaded.runbook;
      this.patterns = loaded.patterns;
      if (this.log) this.log = resumeRunLog(this.log, this.runbook, new Date());
      this.sendSession();
    } catch (err) {
      this.s.log.warn(`[runbook] could not re-read ${this.file}: ${String(err)}`);
    }
  }

  /** Entry point of every webview message (and of the extension-host tests). */
  async receive(raw: unknown): Promise<void> {
    const msg = parseToHost(raw);
    if (!msg) {
      this.s.log.warn(`[runbook] ignored an invalid message from the webview: ${JSON.stringify(raw)?.slice(0, 200)}`);
      return;
    }
    try {
      await this.handle(msg);
    } catch (err) {
      if (ChecklistError.is(err)) {
        this.post({ type: 'notice', level: 'error', text: say(err.detail) });
        return;
      }
      this.s.log.error('[runbook] action failed', err);
      this.post({ type: 'notice', level: 'error', text: describeError(err, vscode.l10n.t) });
    }
  }

  private async handle(msg: ToHost): Promise<void> {
    switch (msg.type) {
      case 'ready':
        this.ready = true;
        this.sendSession();
        return;
      case 'runCommand':
        return this.exclusive(() => this.runSingle(msg.stepId, msg.commandId, msg.via));
      case 'runStep':
        return this.exclusive(async () => void (await this.runStep(msg.stepId, false)));
      case 'runRemaining':
        return this.exclusive(() => this.runRemaining());
      case 'stop':
        this.stopRequested = true;
        this.current?.stop();
        return;
      case 'retry':
        return this.exclusive(async () => {
          this.update((log) => retryStep(log, msg.stepId, new Date()));
          await this.runStep(msg.stepId, false);
        });
      case 'skip': {
        if (this.busy?.stepId === msg.stepId) {
          this.post({ type: 'notice', level: 'error', text: vscode.l10n.t('A command of this step is running: stop it first.') });
          return;
        }
        const reason = msg.reason ?? (await vscode.window.showInputBox({
          title: vscode.l10n.t('Skip this step'),
          prompt: vscode.l10n.t('Why is it skipped? The reason goes into the DR report.'),
          ignoreFocusOut: true,
          validateInput: (v) => (v.trim() ? undefined : vscode.l10n.t('A reason is needed.')),
        }));
        if (reason === undefined) return;
        this.update((log) => skipStep(log, msg.stepId, reason, new Date()));
        return;
      }
      case 'markDone':
        if (this.busy?.stepId === msg.stepId) {
          this.post({ type: 'notice', level: 'error', text: vscode.l10n.t('A command of this step is running: stop it first.') });
          return;
        }
        this.update((log) => markStepDone(log, msg.stepId, new Date()));
        return;
      case 'reopen':
        this.update((log) => reopenStep(log, msg.stepId, new Date()));
        return;
      case 'check':
        this.update((log) => setCheck(log, msg.itemId, msg.checked));
        return;
      case 'exportReport':
        await this.exportReport();
        return;
      case 'newRun':
        await this.newRun();
        return;
      case 'reveal': {
        const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(this.file));
        const pos = new vscode.Position(Math.min(msg.line, doc.lineCount - 1), 0);
        await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, selection: new vscode.Range(pos, pos) });
        return;
      }
      default:
        assertNever(msg);
    }
  }

  /** One thing runs at a time; a second click while busy is ignored. */
  private async exclusive(work: () => Promise<void>): Promise<void> {
    if (this.busy) return;
    if (!requireTrust()) return;
    this.stopRequested = false;
    const run = work().finally(() => {
      this.busy = null;
      this.current = undefined;
      this.sendState();
    });
    this.idle = run.catch(() => undefined);
    await run;
  }

  private step(stepId: string): RunbookStep {
    const step = this.runbook.steps.find((s) => s.id === stepId);
    if (!step) throw new ChecklistError('unknownStep', msg('This step is no longer in the runbook.'));
    return step;
  }

  /**
   * Every question first: placeholder values, then one confirmation (default no) that shows the
   * commands as they will run, when a placeholder was filled or a command is destructive. The
   * destructive check is made again on the filled text (a value such as `x --force` or `&& terraform
   * apply` makes a harmless line destructive). Values are inserted as typed, not quoted: where a
   * placeholder sits (inside quotes, part of a word, several words on purpose) is the author's choice,
   * and quoting it would silently change the command; so a value with characters the shell interprets
   * is pointed out in the input box and in the confirmation, and nothing runs until the operator has
   * seen the exact command. Through Lifeboat the values become the procedure's arguments (no shell);
   * its own plan and confirmation follow.
   */
  private async prepare(commands: readonly RunbookCommand[], via: 'shell' | 'lifeboat'): Promise<Preparation | undefined> {
    const prepared = new Map<string, Prepared>();
    const secrets: string[] = [];
    const envSecrets = secretValues(process.env);
    for (const c of commands) {
      const values: Record<string, string> = {};
      const shownValues: Record<string, string> = {};
      const shellValues: string[] = [];
      for (const name of c.placeholders) {
        const secret = isSecretName(name);
        const value = await vscode.window.showInputBox({
          title: vscode.l10n.t('Value for <{0}>', name),
          prompt: maskSecrets(c.text, envSecrets),
          value: this.placeholderValues.get(name) ?? '',
          password: secret,
          ignoreFocusOut: true,
          validateInput: (v) => {
            if (!v.trim()) return vscode.l10n.t('A value is needed.');
            if (/[\n\r]/.test(v)) return vscode.l10n.t('One line only.');
            if (via === 'shell' && shellSensitive(v.trim())) {
              return { message: vscode.l10n.t('This value holds characters the shell interprets (spaces, quotes, ;, &, |, $…): it goes into the command as typed. You will see the command before it runs.'), severity: vscode.InputBoxValidationSeverity.Warning };
            }
            return undefined;
          },
        });
        if (value === undefined) return undefined;
        const v = value.trim();
        this.placeholderValues.set(name, v);
        values[name] = v;
        shownValues[name] = secret ? MASK : v;
        if (secret) secrets.push(v);
        if (via === 'shell' && shellSensitive(v)) shellValues.push(name);
      }
      const run = fillPlaceholders(c.text, values);
      const destructive = c.destructive ?? destructiveReason(run, this.patterns);
      prepared.set(c.id, {
        run,
        shown: maskSecrets(fillPlaceholders(c.text, shownValues), [...envSecrets, ...secrets]),
        ...(destructive ? { destructive } : {}),
        shellValues,
      });
    }
    if (via === 'shell') {
      const asked = commands.filter((c) => c.placeholders.length > 0 || prepared.get(c.id)?.destructive);
      if (asked.length) {
        const detail = asked.map((c) => {
          const p = prepared.get(c.id);
          return [
            `$ ${p?.shown ?? c.text}`,
            ...(p?.destructive ? [`  (${vscode.l10n.t('asks first: {0}', reasonText(p.destructive))})`] : []),
            ...(p?.shellValues ?? []).map((n) => `  ${vscode.l10n.t('<{0}> holds characters the shell interprets: inserted as typed.', n)}`),
          ].join('\n');
        }).join('\n\n');
        const items = asked.map((c) => prepared.get(c.id));
        const message = items.some((p) => p?.destructive)
          ? vscode.l10n.t('These commands can change or destroy things. Run them?')
          : items.some((p) => p?.shellValues.length)
            ? vscode.l10n.t('A value you typed holds characters the shell interprets. Run the commands exactly as shown?')
            : vscode.l10n.t('Run the commands as shown, with the values you typed?');
        if (!(await confirmDefaultNo(message, vscode.l10n.t('Run'), detail))) return undefined;
      }
    }
    return { commands: prepared, secrets: [...new Set(secrets)] };
  }

  private async runSingle(stepId: string, commandId: string, via: 'shell' | 'lifeboat'): Promise<void> {
    const step = this.step(stepId);
    const command = step.commands.find((c) => c.id === commandId);
    if (!command) throw new ChecklistError('unknownStep', msg('This command is no longer in the runbook.'));
    if (via === 'lifeboat' && !(await this.lifeboatOffered(command))) {
      this.post({ type: 'notice', level: 'error', text: vscode.l10n.t('Lifeboat has no procedure for this command; run it as written.') });
      return;
    }
    const prep = await this.prepare([command], via);
    if (!prep) return;
    if (this.log?.steps[stepId]?.status !== 'running') this.update((log) => startStep(log, stepId, new Date()));
    const ok = await this.execute(step, command, prep, via, false);
    if (!ok) return;
    const rec = this.log?.steps[stepId];
    const allDone = step.commands.every((c) => rec?.commands[c.id]?.status === 'done');
    if (allDone) this.update((log) => finishStep(log, stepId, { ok: true }, new Date()));
  }

  /** "Run with Lifeboat" only for a complete mapping to a command registered now (the webview offers it on the same terms). */
  private async lifeboatOffered(command: RunbookCommand): Promise<boolean> {
    const m = command.lifeboat;
    return Boolean(m && m.unsupported.length === 0 && (await this.lifeboatCommands()).includes(m.command));
  }

  /**
   * Runs a step's commands in order; a failure stops it. Returns whether the step is done. A step left
   * running by commands run one by one continues with those not yet done.
   */
  private async runStep(stepId: string, sequence: boolean): Promise<boolean> {
    const step = this.step(stepId);
    const rec = this.log?.steps[stepId];
    const status = rec?.status ?? 'pending';
    if (rec && status === 'running' && commandRunning(rec)) return false;
    const todo = status === 'running' ? step.commands.filter((c) => rec?.commands[c.id]?.status !== 'done') : step.commands;
    if (!step.commands.length) {
      this.post({ type: 'notice', level: 'info', text: vscode.l10n.t('"{0}" has no command: check its items and mark it done.', step.title) });
      return false;
    }
    const prep = await this.prepare(todo, 'shell');
    if (!prep) return false;
    if (status !== 'running') this.update((log) => startStep(log, stepId, new Date()));
    for (const c of todo) {
      if (this.stopRequested) {
        this.update((log) => finishStep(log, stepId, { ok: false, failure: { reason: 'stopped' } }, new Date()));
        return false;
      }
      const ok = await this.execute(step, c, prep, 'shell', sequence);
      if (!ok) return false;
    }
    this.update((log) => finishStep(log, stepId, { ok: true }, new Date()));
    return true;
  }

  private async runRemaining(): Promise<void> {
    for (const stepId of remainingSteps(this.log ?? newRunLog(this.runbook, '', new Date()), this.runbook)) {
      if (this.stopRequested) return;
      const status = this.log?.steps[stepId]?.status;
      if (status === 'failed') this.update((log) => retryStep(log, stepId, new Date()));
      const ok = await this.runStep(stepId, true);
      if (!ok) {
        const step = this.step(stepId);
        if (this.log?.steps[stepId]?.status === 'failed') {
          this.post({ type: 'notice', level: 'error', text: vscode.l10n.t('Stopped at "{0}": it failed. Retry it, skip it with a reason, or mark it done by hand.', step.title) });
        }
        return;
      }
    }
  }

  /** Runs one command (shell or Lifeboat), records it, and on failure fails the step. */
  private async execute(step: RunbookStep, command: RunbookCommand, prep: Preparation, via: 'shell' | 'lifeboat', sequence: boolean): Promise<boolean> {
    const secrets = [...secretValues(process.env), ...prep.secrets].sort((a, b) => b.length - a.length);
    const p = prep.commands.get(command.id);
    const text = p?.run ?? command.text;
    const masked = p?.shown ?? maskSecrets(text, secrets);
    const startedAt = new Date().toISOString();
    this.busy = { stepId: step.id, commandId: command.id, sequence };
    this.update((log) => recordCommand(log, step.id, command.id, { status: 'running', via, text: masked, startedAt, outputTail: '' }));
    this.post({ type: 'output', stepId: step.id, commandId: command.id, text: '', reset: true });
    this.s.log.info(`[runbook] ${step.title}: $ ${masked}`);
    let exitCode: number | undefined;
    let failure: StepFailure | undefined;
    let tail = '';
    if (via === 'lifeboat') {
      const mapping = lifeboatMappingOf(text);
      tail = vscode.l10n.t('Ran with Lifeboat: {0}. Its plan, confirmation and report are Lifeboat\'s own.', mapping?.command ?? '?');
      this.post({ type: 'output', stepId: step.id, commandId: command.id, text: `${tail}\n` });
      if (!mapping || mapping.unsupported.length) {
        // A typed value added a flag Lifeboat has no equivalent for.
        failure = { reason: 'procedureFailed', procedure: mapping?.command ?? '?', command: masked, detail: vscode.l10n.t('Lifeboat has no procedure for this command; run it as written.') };
      } else {
        const argument = await this.procedureArgument(mapping).catch((err: unknown) => ({ refusal: describeError(err, vscode.l10n.t) }));
        if ('refusal' in argument) {
          failure = { reason: 'procedureFailed', procedure: mapping.command, command: masked, detail: maskSecrets(argument.refusal, secrets) };
        } else {
          try {
            // Only an explicit { status: 'succeeded' } counts: nothing, or any other value, fails the step.
            const verdict = procedureVerdict(await vscode.commands.executeCommand<unknown>(mapping.command, argument.arg));
            tail += `\n${vscode.l10n.t('Lifeboat: {0}', verdict.ok ? 'succeeded' : verdict.outcome)}${verdict.reportFile ? ` — ${verdict.reportFile}` : ''}`;
            if (!verdict.ok) failure = { reason: 'procedureFailed', procedure: mapping.command, outcome: verdict.outcome, command: masked };
          } catch (err) {
            const detail = maskSecrets(describeError(err, vscode.l10n.t), secrets);
            tail += `\n${detail}`;
            failure = { reason: 'procedureFailed', procedure: mapping.command, command: masked, detail };
          }
        }
      }
      if (failure) tail += `\n${say(failureMessage(failure))}`;
    } else {
      let pending = '';
      let flushTimer: ReturnType<typeof setTimeout> | undefined;
      const flush = () => {
        flushTimer = undefined;
        if (!pending) return;
        this.post({ type: 'output', stepId: step.id, commandId: command.id, text: pending });
        pending = '';
      };
      const run = runShell(text, this.workspaceFolder(), process.env, (chunk) => {
        const clean = maskSecrets(chunk, secrets);
        tail = (tail + clean).slice(-OUTPUT_TAIL * 2);
        pending += clean;
        for (const line of clean.split('\n')) if (line) this.s.log.info(`[runbook]   ${line}`);
        flushTimer ??= setTimeout(flush, 100);
      });
      this.current = run;
      exitCode = await run.done;
      if (flushTimer) clearTimeout(flushTimer);
      flush();
      if (exitCode !== 0) failure = { reason: 'commandFailed', command: masked, exitCode };
    }
    const ok = failure === undefined;
    this.s.log.info(`[runbook] ${ok ? 'done' : 'FAILED'}${exitCode !== undefined ? ` (exit code ${exitCode})` : ''}: ${masked}`);
    if (failure && via === 'lifeboat') this.post({ type: 'output', stepId: step.id, commandId: command.id, text: `${say(failureMessage(failure))}\n` });
    this.update((log) => recordCommand(log, step.id, command.id, {
      status: ok ? 'done' : 'failed', via, text: masked, startedAt, endedAt: new Date().toISOString(), ...(exitCode !== undefined ? { exitCode } : {}), outputTail: tail.slice(-OUTPUT_TAIL),
    }));
    if (failure) {
      const why = failure;
      this.update((log) => finishStep(log, step.id, { ok: false, failure: why }, new Date()));
      if (!sequence) this.s.log.warn(`[runbook] step "${step.title}" failed`);
    }
    return ok;
  }

  /**
   * The argument a procedure command gets. `restore-tfstate.sh --restore <version-id>` passes the
   * version on: the restore command takes a state version (the shape the explorer's items have), so it
   * is looked up in the environment's state bucket, and Lifeboat's plan then shows it and asks; the
   * picker is not shown again. A version or environment that cannot be found refuses, with why.
   */
  private async procedureArgument(mapping: LifeboatMapping): Promise<{ arg: unknown } | { refusal: string }> {
    const versionId = mapping.args.versionId;
    if (mapping.command !== 'lifeboat.restoreTfstate' || typeof versionId !== 'string') return { arg: mapping.args };
    const envName = typeof mapping.args.env === 'string' ? mapping.args.env : undefined;
    const all = await this.s.state.environments();
    const withS3 = all.filter((e) => e.backend.type === 's3' || e.backend.commentedOut);
    const env = envName ? all.find((e) => e.name === envName) : withS3.length === 1 ? withS3[0] : undefined;
    if (!env) {
      return { refusal: envName
        ? vscode.l10n.t('No environment named {0} in this workspace.', envName)
        : vscode.l10n.t('The command names no environment (--env) and this workspace has several: add --env to the runbook\'s command.') };
    }
    if (!(await this.s.state.store(env, true))) return { refusal: vscode.l10n.t('No S3 credentials for the {0} state: nothing was read or changed.', env.name) };
    const version = (await this.s.state.versions(env))?.find((v) => v.versionId === versionId && !v.isDeleteMarker);
    if (!version) return { refusal: vscode.l10n.t('Version {0} is not among the versions of the {1} state.', versionId, env.name) };
    const node: Extract<RecoveryNode, { kind: 'stateVersion' }> = { kind: 'stateVersion', env, version, current: version.isLatest };
    return { arg: node };
  }

  private async newRun(): Promise<void> {
    if (this.busy) return;
    if (this.log) {
      if (!(await confirmDefaultNo(vscode.l10n.t('Start a new run? The current run log is replaced (export its report first if you need it).'), vscode.l10n.t('Start a new run')))) return;
    }
    this.log = undefined;
    await this.writer.write(undefined);
    this.sendSession();
  }

  /** Writes the DR report to the report folder (setting) and opens it. Returns its path. */
  async exportReport(scenario?: string): Promise<string | undefined> {
    const given = scenario ?? (await vscode.window.showInputBox({
      title: vscode.l10n.t('DR report'),
      prompt: vscode.l10n.t('Scenario of this test or incident (e.g. "node alpha lost")'),
      value: this.runbook.title,
      ignoreFocusOut: true,
    }));
    if (given === undefined) return undefined;
    const now = new Date();
    const log = this.log ?? newRunLog(this.runbook, this.relativePath(), now);
    const folderSetting = vscode.workspace.getConfiguration('lifeboat.runbook', vscode.Uri.file(this.file)).get<string>('reportFolder', 'docs/dr-tests');
    const folder = await this.reportFolder(folderSetting || 'docs/dr-tests');
    if (!folder) return undefined;
    const base = reportFileName(this.runbook, path.basename(this.file), now);
    let target = path.join(folder, base);
    for (let n = 2; await exists(target); n++) target = path.join(folder, base.replace(/\.md$/, `-${n}.md`));
    const markdown = runbookReportMarkdown({ runbook: this.runbook, log, runbookPath: this.relativePath(), operator: await operatorName(this.workspaceFolder()), scenario: given, now }, vscode.l10n.t);
    await fs.writeFile(target, maskSecrets(markdown, secretValues(process.env)), 'utf8');
    this.s.log.info(`[runbook] report written to ${target}`);
    this.post({ type: 'notice', level: 'info', text: vscode.l10n.t('Report written to {0}', path.relative(this.workspaceFolder(), target)) });
    // Don't wait: the report is written; opening it is a courtesy that may fail (the file moved meanwhile).
    void vscode.window.showTextDocument(vscode.Uri.file(target), { viewColumn: vscode.ViewColumn.Beside, preview: false })
      .then(undefined, (err: unknown) => this.s.log.warn(`[runbook] could not open the report ${target}: ${String(err)}`));
    return target;
  }

  /**
   * The report folder inside the workspace folder, created if needed; undefined (and the operator told
   * why) when the setting points outside it, lexically or through a symbolic link: a report is written
   * only where the runbook's repository is.
   */
  private async reportFolder(setting: string): Promise<string | undefined> {
    const root = this.workspaceFolder();
    const inside = (base: string, p: string) => {
      const rel = path.relative(base, p);
      return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
    };
    const folder = path.resolve(root, setting);
    let ok = inside(root, folder);
    if (ok) {
      await fs.mkdir(folder, { recursive: true });
      ok = inside(await fs.realpath(root), await fs.realpath(folder));
    }
    if (ok) return folder;
    const text = vscode.l10n.t('The report folder "{0}" (setting lifeboat.runbook.reportFolder) is outside this workspace folder: nothing was written. Choose a folder inside it, e.g. docs/dr-tests.', setting);
    this.s.log.warn(`[runbook] report folder outside the workspace refused: ${setting}`);
    this.post({ type: 'notice', level: 'error', text });
    const open = vscode.l10n.t('Open Settings');
    void vscode.window.showErrorMessage(text, open).then((choice) => {
      if (choice === open) void vscode.commands.executeCommand('workbench.action.openSettings', 'lifeboat.runbook.reportFolder');
    });
    return undefined;
  }

  dispose(): void {
    this.current?.stop();
    for (const d of this.disposables.splice(0)) d.dispose();
    this.onDisposeEmitter.fire();
    this.onDisposeEmitter.dispose();
    this.panel.dispose();
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(() => true, () => false);
}

interface Loaded {
  readonly runbook: Runbook;
  /** `lifeboat.runbook.destructivePatterns`: also applied to commands once their placeholders are filled. */
  readonly patterns: readonly string[];
}

async function loadRunbook(file: string): Promise<Loaded> {
  const text = await fs.readFile(file, 'utf8');
  const setting = vscode.workspace.getConfiguration('lifeboat.runbook', vscode.Uri.file(file)).get<string[]>('destructivePatterns', []);
  const patterns = Array.isArray(setting) ? setting.filter((p) => typeof p === 'string') : [];
  return { runbook: parseRunbook(text, { fileName: path.basename(file), destructivePatterns: patterns }), patterns };
}

/** `git config user.name`, else the OS user. */
function operatorName(cwd: string): Promise<string> {
  return new Promise((resolve) => {
    execFile('git', ['config', 'user.name'], { cwd, timeout: 3_000 }, (err, stdout) => {
      const name = String(stdout ?? '').trim();
      resolve(!err && name ? name : os.userInfo().username);
    });
  });
}
