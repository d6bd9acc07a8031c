/**
 * The checklist DOM, built from the model as text (textContent and element properties only: nothing
 * from the runbook is ever parsed as HTML). Built once per session, then updated in place so the
 * keyboard focus stays where it is while output streams in.
 */
import type { BusyState, FailureTexts, RunbookLabels, RunbookSession, RunbookStep, RunbookCommand, RunLog, StepRecord, ToHost } from '../src/shared/runbookMessages';
// The same stopwatch as the DR report's (pure functions of the run log, no Node or vscode imports).
import { elapsedMs, runStartedAt, stepElapsedMs } from '../src/core/runbook/timing';

type Post = (message: ToHost) => void;

const MAX_OUTPUT_CHARS = 20_000;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A vscode-elements button (a custom element; keyboard focusable, Enter/Space activate it). */
function button(label: string, onClick: () => void, opts: { secondary?: boolean; action: string; title?: string } = { action: '' }): HTMLElement {
  const b = document.createElement('vscode-button');
  b.textContent = label;
  b.dataset.action = opts.action;
  if (opts.secondary) b.setAttribute('secondary', '');
  if (opts.title) b.title = opts.title;
  b.addEventListener('click', () => {
    if (!b.hasAttribute('disabled')) onClick();
  });
  return b;
}

/** Text with `code` spans: split on backticks, each part a text node. */
function richText(parent: HTMLElement, text: string): void {
  text.split('`').forEach((part, i) => {
    if (!part) return;
    if (i % 2 === 1) parent.append(el('code', undefined, part));
    else parent.append(document.createTextNode(part));
  });
}

export function formatClock(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`;
}

interface StepView {
  readonly step: RunbookStep;
  readonly section: HTMLElement;
  readonly status: HTMLElement;
  readonly time: HTMLElement;
  readonly changed: HTMLElement;
  readonly failure: HTMLElement;
  readonly actions: HTMLElement;
  readonly commands: Map<string, { runButtons: HTMLElement[]; output: HTMLElement; exit: HTMLElement }>;
  readonly checks: Map<string, HTMLElement & { checked: boolean }>;
  lastStatus?: string;
}

export class ChecklistView {
  private session?: RunbookSession;
  private log: RunLog | null = null;
  private busy: BusyState | null = null;
  private changed: readonly string[] = [];
  private clockSkew = 0;
  private readonly steps = new Map<string, StepView>();
  private readonly prereqChecks = new Map<string, HTMLElement & { checked: boolean }>();
  private elapsed?: HTMLElement;
  private runAll?: HTMLElement;
  private timer?: ReturnType<typeof setInterval>;

  constructor(private readonly root: HTMLElement, private readonly post: Post) {}

  private get labels(): RunbookLabels {
    if (!this.session) throw new Error('no session');
    return this.session.labels;
  }

  /** Builds the whole page for a runbook. */
  showSession(session: RunbookSession, log: RunLog | null, changed: readonly string[], failures: FailureTexts, busy: BusyState | null, now: string): void {
    this.session = session;
    this.steps.clear();
    this.prereqChecks.clear();
    const L = session.labels;
    const rb = session.runbook;
    this.root.replaceChildren();

    const header = el('header', 'runbook-header');
    const h1 = el('h1', 'runbook-title', rb.title);
    const meta = el('div', 'runbook-meta');
    this.elapsed = el('span', 'stopwatch', '00:00');
    this.elapsed.setAttribute('role', 'timer');
    this.elapsed.setAttribute('aria-label', L.elapsed);
    const target = el('span', 'rto', rb.rtoMinutes !== undefined ? `${L.rtoTarget} ${rb.rtoMinutes} min` : L.noRto);
    meta.append(el('span', 'label', `${L.elapsed} `), this.elapsed, target, el('span', 'path', session.path));
    const toolbar = el('div', 'toolbar');
    this.runAll = button(L.runAll, () => this.post({ type: 'runRemaining' }), { action: 'runAll' });
    toolbar.append(
      this.runAll,
      button(L.stop, () => this.post({ type: 'stop' }), { action: 'stop', secondary: true }),
      button(L.exportReport, () => this.post({ type: 'exportReport' }), { action: 'exportReport', secondary: true }),
      button(L.newRun, () => this.post({ type: 'newRun' }), { action: 'newRun', secondary: true }),
    );
    header.append(h1, meta, toolbar);
    if (!session.trusted) header.append(el('p', 'restricted', L.restricted));
    for (const limit of session.limits) header.append(el('p', 'limits', `${L.limits}: ${limit}`));
    this.root.append(header);

    if (rb.prerequisites.length) {
      const sec = el('section', 'prerequisites');
      sec.append(el('h2', undefined, L.prerequisites));
      for (const item of rb.prerequisites) sec.append(this.checkbox(item.id, item.text, item.checked, this.prereqChecks));
      this.root.append(sec);
    }
    if (!rb.steps.length) this.root.append(el('p', 'empty', L.noSteps));
    const list = el('ol', 'steps');
    rb.steps.forEach((step, index) => list.append(this.buildStep(step, index)));
    this.root.append(list);
    this.update(log, changed, failures, busy, now);
    this.timer ??= setInterval(() => this.tick(), 1000);
  }

  private checkbox(id: string, text: string, checked: boolean, into: Map<string, HTMLElement & { checked: boolean }>): HTMLElement {
    const box = document.createElement('vscode-checkbox') as HTMLElement & { checked: boolean; label: string };
    box.label = text;
    box.checked = checked;
    box.dataset.item = id;
    box.addEventListener('change', () => this.post({ type: 'check', itemId: id, checked: box.checked }));
    into.set(id, box);
    const li = el('div', 'check');
    li.append(box);
    return li;
  }

  private buildStep(step: RunbookStep, index: number): HTMLElement {
    const L = this.labels;
    const section = el('li', 'step');
    section.dataset.step = step.id;
    section.setAttribute('aria-label', `${step.number ?? index + 1}. ${step.title}`);
    const head = el('div', 'step-head');
    const title = el('h2', 'step-title');
    title.append(el('span', 'step-number', `${step.number ?? index + 1}.`), document.createTextNode(` ${step.title}`));
    const status = el('span', 'status');
    status.setAttribute('role', 'status');
    const time = el('span', 'time');
    const estimate = el('span', 'estimate', step.estimateMinutes !== undefined ? `${L.estimate} ${step.estimateMinutes} min` : '');
    const changed = el('span', 'changed', L.changed);
    changed.hidden = true;
    const source = el('a', 'source', L.openSource);
    source.setAttribute('href', '#');
    source.addEventListener('click', (e) => {
      e.preventDefault();
      this.post({ type: 'reveal', line: step.range.start });
    });
    head.append(title, status, time, estimate, changed, source);
    section.append(head);

    const failure = el('p', 'failure');
    failure.hidden = true;
    const actions = el('div', 'step-actions');
    section.append(failure, actions);

    for (const p of step.prerequisites) {
      const pre = el('p', 'prerequisite');
      richText(pre, p);
      section.append(pre);
    }
    for (const n of step.notes) {
      const p = el('p', 'note');
      richText(p, n);
      section.append(p);
    }
    for (const w of step.warnings) {
      const q = el('blockquote', 'warning');
      q.append(el('strong', undefined, `${L.warning}: `));
      richText(q, w);
      section.append(q);
    }
    for (const table of step.tables) {
      const t = el('table', 'md-table');
      const thead = el('thead');
      const hr = el('tr');
      for (const h of table.header) hr.append(el('th', undefined, h));
      thead.append(hr);
      const tbody = el('tbody');
      for (const row of table.rows) {
        const tr = el('tr');
        for (const c of row) tr.append(el('td', undefined, c));
        tbody.append(tr);
      }
      t.append(thead, tbody);
      section.append(t);
    }
    const commands = new Map<string, { runButtons: HTMLElement[]; output: HTMLElement; exit: HTMLElement }>();
    if (step.commands.length) {
      const list = el('div', 'commands');
      for (const c of step.commands) list.append(this.buildCommand(step, c, commands));
      section.append(list);
    }
    if (step.expected.length) {
      const ex = el('div', 'expected');
      ex.append(el('h3', undefined, L.expected));
      const ul = el('ul');
      for (const e of step.expected) {
        const li = el('li');
        richText(li, e);
        ul.append(li);
      }
      ex.append(ul);
      section.append(ex);
    }
    const checks = new Map<string, HTMLElement & { checked: boolean }>();
    if (step.checklist.length) {
      const cl = el('div', 'checklist');
      cl.setAttribute('aria-label', L.checklist);
      for (const item of step.checklist) cl.append(this.checkbox(item.id, item.text, item.checked, checks));
      section.append(cl);
    }
    this.steps.set(step.id, { step, section, status, time, changed, failure, actions, commands, checks });
    return section;
  }

  private buildCommand(step: RunbookStep, c: RunbookCommand, into: StepView['commands']): HTMLElement {
    const L = this.labels;
    const box = el('div', 'command');
    box.dataset.command = c.id;
    const line = el('div', 'command-line');
    const code = el('pre', 'command-text', c.text);
    line.append(code);
    const runButtons: HTMLElement[] = [];
    const buttons = el('div', 'command-buttons');
    const run = button(L.run, () => this.post({ type: 'runCommand', stepId: step.id, commandId: c.id, via: 'shell' }), { action: 'run', secondary: Boolean(this.lifeboatFor(c)), title: c.text });
    runButtons.push(run);
    buttons.append(run);
    const lb = this.lifeboatFor(c);
    if (lb) {
      const b = button(L.runWithLifeboat, () => this.post({ type: 'runCommand', stepId: step.id, commandId: c.id, via: 'lifeboat' }), { action: 'runWithLifeboat', title: lb });
      runButtons.push(b);
      buttons.append(b);
    }
    line.append(buttons);
    box.append(line);
    const tags = el('div', 'command-tags');
    if (c.destructive) tags.append(el('span', 'tag destructive', `${L.destructive} (${this.session?.reasons?.[c.destructive] ?? c.destructive})`));
    if (c.placeholders.length) tags.append(el('span', 'tag', `${L.placeholders}: ${c.placeholders.map((p) => `<${p}>`).join(', ')}`));
    if (tags.childElementCount) box.append(tags);
    const exit = el('span', 'exit');
    const output = el('pre', 'output');
    output.setAttribute('role', 'log');
    output.setAttribute('aria-label', `${L.output}: ${c.text}`);
    output.tabIndex = 0;
    output.hidden = true;
    box.append(exit, output);
    into.set(c.id, { runButtons, output, exit });
    return box;
  }

  /** The Lifeboat command for a command, when its mapping is complete and the command is registered now. */
  private lifeboatFor(c: RunbookCommand): string | undefined {
    const m = c.lifeboat;
    if (!m || m.unsupported.length || !this.session?.lifeboatCommands.includes(m.command)) return undefined;
    return m.command;
  }

  /** Applies a new run log and busy state to the page. */
  update(log: RunLog | null, changed: readonly string[], failures: FailureTexts, busy: BusyState | null, now: string): void {
    this.log = log;
    this.busy = busy;
    this.changed = changed;
    this.clockSkew = Date.parse(now) - Date.now();
    const L = this.labels;
    const trusted = this.session?.trusted ?? false;
    for (const [id, box] of this.prereqChecks) if (log && id in log.checks) box.checked = Boolean(log.checks[id]);
    for (const view of this.steps.values()) {
      const rec: StepRecord | undefined = log?.steps[view.step.id];
      const status = rec?.status ?? 'pending';
      // Running, but none of its commands is executing: some were run one by one. It is continued,
      // skipped or marked done like a failed step.
      const idleRunning = status === 'running' && busy?.stepId !== view.step.id;
      view.section.dataset.status = status;
      view.section.dataset.idle = String(idleRunning);
      view.status.dataset.status = status;
      view.status.textContent = status === 'done' && rec?.manual ? L.doneManually : idleRunning ? L.partlyRun : L[status];
      view.changed.hidden = !changed.includes(view.step.id);
      const failureText = status === 'failed' ? failures[view.step.id] ?? L.failed : status === 'skipped' ? `${L.skipReason}: ${rec?.skipReason ?? ''}` : '';
      view.failure.replaceChildren();
      richText(view.failure, failureText + (rec && rec.retries > 0 ? `${failureText ? ' · ' : ''}${L.retries}: ${rec.retries}` : ''));
      view.failure.hidden = !view.failure.textContent;
      for (const [id, box] of view.checks) if (log && id in log.checks) box.checked = Boolean(log.checks[id]);
      for (const [cid, cv] of view.commands) {
        const crec = rec?.commands[cid];
        // A done or skipped step is reopened first (its record would otherwise be overwritten silently).
        for (const b of cv.runButtons) b.toggleAttribute('disabled', !trusted || busy !== null || status === 'done' || status === 'skipped');
        cv.exit.textContent = crec?.exitCode !== undefined ? `${L.exitCode} ${crec.exitCode}` : crec ? L[crec.status] : '';
        cv.exit.dataset.ok = String(crec?.status === 'done');
        if (crec && !cv.output.textContent && crec.outputTail) cv.output.textContent = crec.outputTail;
        cv.output.hidden = !cv.output.textContent;
      }
      const shown = idleRunning ? 'idle-running' : status;
      if (view.lastStatus !== shown || view.actions.dataset.busy !== String(busy !== null)) {
        view.lastStatus = shown;
        view.actions.dataset.busy = String(busy !== null);
        this.renderActions(view, shown);
      }
    }
    this.runAll?.toggleAttribute('disabled', !trusted || busy !== null);
    this.tick();
  }

  private renderActions(view: StepView, status: string): void {
    const L = this.labels;
    const id = view.step.id;
    const trusted = this.session?.trusted ?? false;
    const idle = this.busy === null;
    const buttons: HTMLElement[] = [];
    // 'idle-running': the step's remaining commands are run by "Run step".
    if ((status === 'pending' || status === 'idle-running') && view.step.commands.length) buttons.push(button(L.runStep, () => this.post({ type: 'runStep', stepId: id }), { action: 'runStep' }));
    if (status === 'failed') buttons.push(button(L.retry, () => this.post({ type: 'retry', stepId: id }), { action: 'retry' }));
    if (status === 'pending' || status === 'failed' || status === 'idle-running') {
      buttons.push(button(L.skip, () => this.post({ type: 'skip', stepId: id }), { action: 'skip', secondary: true }));
      buttons.push(button(L.markDone, () => this.post({ type: 'markDone', stepId: id }), { action: 'markDone', secondary: true }));
    }
    if (status === 'done' || status === 'skipped') buttons.push(button(L.reopen, () => this.post({ type: 'reopen', stepId: id }), { action: 'reopen', secondary: true }));
    for (const b of buttons) {
      const action = b.dataset.action ?? '';
      if (!idle || (!trusted && (action === 'runStep' || action === 'retry'))) b.setAttribute('disabled', '');
    }
    view.actions.replaceChildren(...buttons);
  }

  /** Streams output into a command's box (kept to the last MAX_OUTPUT_CHARS characters). */
  appendOutput(stepId: string, commandId: string, text: string, reset: boolean): void {
    const cv = this.steps.get(stepId)?.commands.get(commandId);
    if (!cv) return;
    const next = (reset ? '' : cv.output.textContent ?? '') + text;
    cv.output.textContent = next.length > MAX_OUTPUT_CHARS ? next.slice(-MAX_OUTPUT_CHARS) : next;
    cv.output.hidden = !cv.output.textContent;
    cv.output.scrollTop = cv.output.scrollHeight;
  }

  /** The stopwatch: the run's elapsed time against the RTO, each step's time against its estimate. */
  tick(): void {
    const now = Date.now() + this.clockSkew;
    const log = this.log;
    const L = this.session?.labels;
    if (!L) return;
    // As the report measures it: from the earliest start, earlier attempts of a retried or reopened step included.
    const started = log ? runStartedAt(log) : undefined;
    if (this.elapsed) {
      const runMs = log ? elapsedMs(log, now) : 0;
      this.elapsed.textContent = started !== undefined ? formatClock(runMs) : L.notStarted;
      const rto = this.session?.runbook.rtoMinutes;
      this.elapsed.dataset.over = String(rto !== undefined && runMs > rto * 60_000);
    }
    for (const view of this.steps.values()) {
      const rec = log?.steps[view.step.id];
      const ms = rec ? stepElapsedMs(rec, now) : 0;
      view.time.textContent = ms > 0 ? formatClock(ms) : '';
      const est = view.step.estimateMinutes;
      const over = est !== undefined && ms > est * 60_000;
      view.time.dataset.over = String(over);
      view.time.title = over ? L.overEstimate : '';
    }
  }

  notice(level: 'info' | 'error', text: string): void {
    let bar = this.root.querySelector<HTMLElement>('.notice');
    if (!bar) {
      bar = el('p', 'notice');
      bar.setAttribute('role', 'alert');
      this.root.prepend(bar);
    }
    bar.dataset.level = level;
    bar.textContent = text;
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
