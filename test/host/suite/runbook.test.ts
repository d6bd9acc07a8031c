// The runbook checklist in a real extension host: open a runbook written into the workspace, run a
// step, stop on a failing one, retry, skip with a reason, the run log on disk, resume after the
// panel is closed and reopened, and the exported report. The runbook's commands are harmless
// (echo, test, touch in a temporary folder).
import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { getApi } from './helpers';

/** What `lifeboat.openRunbook` returns (the extension's RunbookPanel), as far as these tests use it. */
interface PanelLike {
  readonly file: string;
  readonly panel: vscode.WebviewPanel;
  readonly runLog: { steps: Record<string, { status: string; retries: number; skipReason?: string; commands: Record<string, { exitCode?: number; outputTail: string }> }>; checks: Record<string, boolean> } | undefined;
  readonly model: { steps: { id: string; title: string; commands: { id: string; text: string }[]; checklist: { id: string }[] }[]; rtoMinutes?: number };
  receive(message: unknown): Promise<void>;
  exportReport(scenario?: string): Promise<string | undefined>;
  dispose(): void;
}

const NAME = `lifeboat-host-test-${process.pid}`;

describe('runbook checklist', function () {
  this.timeout(60_000);
  let folder: string;
  let file: string;
  let scratch: string;
  const reports: string[] = [];
  let panel: PanelLike | undefined;

  before(async () => {
    await getApi();
    folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
    assert.ok(folder, 'a workspace folder');
    scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'lifeboat-runbook-'));
    file = path.join(folder, 'docs', `${NAME}.md`);
    const marker = path.join(scratch, 'second-attempt');
    await fs.writeFile(file, [
      '# Host test runbook',
      '',
      'RTO: 5 min.',
      '',
      '## Step 1 — Say hello (about 1 min)',
      '',
      '```sh',
      'echo "hello from $(basename "$PWD")"',
      '```',
      '',
      '- [ ] Hello was printed',
      '',
      '## Step 2 — Fails the first time (about 1 min)',
      '',
      '```sh',
      `test -f '${marker}' || { touch '${marker}'; echo first-attempt-fails; exit 3; }`,
      'echo second-attempt-works',
      '```',
      '',
      '## Step 3 — Not reached by the sequence',
      '',
      '```sh',
      'echo step-3',
      '```',
      '',
    ].join('\n'), 'utf8');
  });

  after(async () => {
    panel?.dispose();
    await fs.rm(file, { force: true });
    await fs.rm(path.join(folder, 'docs', '.lifeboat', 'runs', `${NAME}.json`), { force: true });
    for (const r of reports) await fs.rm(r, { force: true });
    await fs.rm(scratch, { recursive: true, force: true });
    // Leave no empty folders behind in the fixture.
    for (const dir of [path.join(folder, 'docs', '.lifeboat', 'runs'), path.join(folder, 'docs', '.lifeboat'), path.join(folder, 'docs', 'dr-tests')]) {
      await fs.rmdir(dir).catch(() => undefined);
    }
  });

  const open = async (): Promise<PanelLike> => {
    const p = await vscode.commands.executeCommand<PanelLike>('lifeboat.openRunbook', vscode.Uri.file(file));
    assert.ok(p && typeof p.receive === 'function', 'lifeboat.openRunbook returns the panel');
    return p;
  };
  const status = (p: PanelLike, i: number) => p.runLog?.steps[p.model.steps[i]!.id]?.status;

  it('opens the checklist in its own webview panel (the Markdown editor is not taken over)', async () => {
    panel = await open();
    assert.equal(panel.panel.viewType, 'lifeboat.runbook');
    assert.equal(panel.model.steps.length, 3);
    assert.equal(panel.model.rtoMinutes, 5);
    assert.equal(panel.runLog, undefined, 'no run yet');
    const again = await open();
    assert.equal(again, panel, 'one panel per runbook');
  });

  it('offers "Open as checklist" on line 0 of a runbook under docs/, not on other Markdown', async () => {
    const lensesOf = async (file: string) => {
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
      const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri);
      return (lenses ?? []).filter((l) => l.command?.command === 'lifeboat.openRunbook');
    };
    const sample = await lensesOf(path.join(folder, 'docs', 'DISASTER-RECOVERY.md'));
    assert.equal(sample.length, 1);
    assert.equal(sample[0]?.range.start.line, 0);
    assert.equal((sample[0]?.command?.arguments?.[0] as vscode.Uri | undefined)?.fsPath, path.join(folder, 'docs', 'DISASTER-RECOVERY.md'));
    assert.equal((await lensesOf(path.join(folder, 'docs', 'RESTAURATION-PARTIELLE.md'))).length, 1);
    assert.equal((await lensesOf(path.join(folder, 'README.md'))).length, 0);
  });

  it('runs a step whose command succeeds, in the workspace folder', async () => {
    const p = panel!;
    await p.receive({ type: 'runStep', stepId: p.model.steps[0]!.id });
    assert.equal(status(p, 0), 'done');
    const cmd = p.runLog?.steps[p.model.steps[0]!.id]?.commands[p.model.steps[0]!.commands[0]!.id];
    assert.equal(cmd?.exitCode, 0);
    assert.equal(cmd?.outputTail.trim(), `hello from ${path.basename(folder)}`);
  });

  it('"Run all remaining" stops at the failing step; the next one is not run', async () => {
    const p = panel!;
    await p.receive({ type: 'runRemaining' });
    assert.equal(status(p, 1), 'failed');
    assert.equal(p.runLog?.steps[p.model.steps[1]!.id]?.commands[p.model.steps[1]!.commands[0]!.id]?.exitCode, 3);
    assert.match(p.runLog?.steps[p.model.steps[1]!.id]?.commands[p.model.steps[1]!.commands[0]!.id]?.outputTail ?? '', /first-attempt-fails/);
    assert.equal(status(p, 2), 'pending');
  });

  it('ignores a message that is not a valid ToHost', async () => {
    const p = panel!;
    await p.receive({ type: 'runStep', stepId: 42 });
    await p.receive({ type: 'runStep', stepId: p.model.steps[2]!.id, extra: 'x' });
    await p.receive({ type: 'rm -rf /' });
    assert.equal(status(p, 2), 'pending');
  });

  it('retries the failed step (it succeeds the second time) and skips the last with a reason', async () => {
    const p = panel!;
    await p.receive({ type: 'retry', stepId: p.model.steps[1]!.id });
    assert.equal(status(p, 1), 'done');
    assert.equal(p.runLog?.steps[p.model.steps[1]!.id]?.retries, 1);
    await p.receive({ type: 'skip', stepId: p.model.steps[2]!.id, reason: 'not needed in this test' });
    assert.equal(status(p, 2), 'skipped');
    await p.receive({ type: 'check', itemId: p.model.steps[0]!.checklist[0]!.id, checked: true });
  });

  it('writes the run log next to the runbook, and a reopened panel resumes from it', async () => {
    const logFile = path.join(folder, 'docs', '.lifeboat', 'runs', `${NAME}.json`);
    const deadline = Date.now() + 5_000;
    let saved: { format?: string; steps?: Record<string, { status: string }>; checks?: Record<string, boolean> } = {};
    while (Date.now() < deadline) {
      saved = JSON.parse(await fs.readFile(logFile, 'utf8').catch(() => '{}')) as typeof saved;
      if (Object.values(saved.steps ?? {}).map((s) => s.status).join() === 'done,done,skipped' && Object.values(saved.checks ?? {}).includes(true)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(saved.format, 'lifeboat-runbook-run/1');
    assert.deepEqual(Object.values(saved.steps ?? {}).map((s) => s.status), ['done', 'done', 'skipped']);
    panel!.dispose();
    panel = await open();
    assert.deepEqual([0, 1, 2].map((i) => status(panel!, i)), ['done', 'done', 'skipped']);
    assert.equal(panel.runLog?.steps[panel.model.steps[2]!.id]?.skipReason, 'not needed in this test');
    assert.equal(panel.runLog?.checks[panel.model.steps[0]!.checklist[0]!.id], true);
  });

  it('exports a dated DR report with durations, problems met and the RTO verdict', async () => {
    const report = await panel!.exportReport('host test scenario');
    assert.ok(report, 'a report path');
    reports.push(report);
    assert.equal(path.dirname(report), path.join(folder, 'docs', 'dr-tests'));
    assert.match(path.basename(report), /^\d{4}-\d{2}-\d{2}-lifeboat-host-test-\d+\.md$/);
    const md = await fs.readFile(report, 'utf8');
    assert.match(md, /Scenario: host test scenario/);
    assert.match(md, /failed \(exit code 3\); retried/);
    assert.match(md, /skipped: not needed in this test/);
    assert.match(md, /target \(RTO\): 5 min — met/);
  });
});

describe('runbook checklist: Lifeboat procedures, partly run steps, the report folder', function () {
  this.timeout(60_000);
  const name = `lifeboat-host-procedures-${process.pid}`;
  let folder: string;
  let file: string;
  let panel: (PanelLike & { runLog: { steps: Record<string, { status: string; manual?: boolean; failure?: { reason: string; outcome?: string; detail?: string; procedure?: string }; commands: Record<string, { status: string; outputTail: string }> }> } | undefined }) | undefined;

  before(async () => {
    await getApi();
    folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
    file = path.join(folder, 'docs', `${name}.md`);
    await fs.writeFile(file, [
      '# Host test: procedures',
      '',
      '## Step 1 — Through Lifeboat (about 1 min)',
      '',
      '```sh',
      './scripts/restore/restore-tfstate.sh --env nope --fallback',
      './scripts/restore/restore-tfstate.sh --env nope --restore v123 # the version from the list',
      '```',
      '',
      '## Step 2 — Two commands',
      '',
      '```sh',
      'echo first',
      'echo second',
      '```',
      '',
      '## Step 3 — Last',
      '',
      '```sh',
      'echo third',
      '```',
      '',
    ].join('\n'), 'utf8');
    panel = await vscode.commands.executeCommand<NonNullable<typeof panel>>('lifeboat.openRunbook', vscode.Uri.file(file));
  });

  after(async () => {
    panel?.dispose();
    await vscode.workspace.getConfiguration('lifeboat.runbook').update('reportFolder', undefined, vscode.ConfigurationTarget.Global);
    await fs.rm(file, { force: true });
    await fs.rm(path.join(folder, 'docs', '.lifeboat', 'runs', `${name}.json`), { force: true });
    for (const dir of [path.join(folder, 'docs', '.lifeboat', 'runs'), path.join(folder, 'docs', '.lifeboat')]) await fs.rmdir(dir).catch(() => undefined);
  });

  const step = (i: number) => panel!.model.steps[i]!;
  const rec = (i: number) => panel!.runLog?.steps[step(i).id];

  it('a procedure command that throws resolves to { status: "failed" }, never to nothing', async () => {
    // A state version node without a backend: the procedure fails on it before any network access.
    const outcome = await vscode.commands.executeCommand('lifeboat.restoreStateVersion', { kind: 'stateVersion', env: { name: 'broken' }, version: { versionId: 'x' }, current: false });
    assert.deepEqual(outcome, { status: 'failed' });
  });

  it('"Run with Lifeboat" fails the step when the procedure does not report success, and says why', async () => {
    const fallback = step(0).commands[0]!;
    await panel!.receive({ type: 'runCommand', stepId: step(0).id, commandId: fallback.id, via: 'lifeboat' });
    assert.equal(rec(0)?.status, 'failed');
    assert.equal(rec(0)?.failure?.reason, 'procedureFailed');
    assert.equal(rec(0)?.failure?.procedure, 'lifeboat.fallbackToLocal');
    assert.equal(rec(0)?.failure?.outcome, 'not-confirmed');
    assert.equal(rec(0)?.commands[fallback.id]?.status, 'failed');
    assert.match(rec(0)?.commands[fallback.id]?.outputTail ?? '', /lifeboat\.fallbackToLocal/);
  });

  it('passes the --restore version on to Lifeboat (no picker): an unknown environment is refused with why', async () => {
    const restore = step(0).commands[1]!;
    assert.equal(restore.text, './scripts/restore/restore-tfstate.sh --env nope --restore v123', 'the comment is not part of the command');
    // Showing the version picker here would hang this test until its timeout.
    await panel!.receive({ type: 'runCommand', stepId: step(0).id, commandId: restore.id, via: 'lifeboat' });
    assert.equal(rec(0)?.status, 'failed');
    assert.equal(rec(0)?.failure?.procedure, 'lifeboat.restoreTfstate');
    assert.match(rec(0)?.failure?.detail ?? '', /nope/);
  });

  it('"Run all remaining" continues a step partly run command by command, with the commands not yet done', async () => {
    await panel!.receive({ type: 'skip', stepId: step(0).id, reason: 'no such environment in the test workspace' });
    await panel!.receive({ type: 'runCommand', stepId: step(1).id, commandId: step(1).commands[0]!.id, via: 'shell' });
    assert.equal(rec(1)?.status, 'running', 'one of its two commands ran');
    await panel!.receive({ type: 'runRemaining' });
    assert.equal(rec(1)?.status, 'done');
    assert.equal(rec(1)?.commands[step(1).commands[1]!.id]?.outputTail.trim(), 'second');
    assert.equal(rec(2)?.status, 'done');
  });

  it('a partly run step can be marked done by hand', async () => {
    await panel!.receive({ type: 'reopen', stepId: step(1).id });
    await panel!.receive({ type: 'runCommand', stepId: step(1).id, commandId: step(1).commands[0]!.id, via: 'shell' });
    assert.equal(rec(1)?.status, 'running');
    await panel!.receive({ type: 'markDone', stepId: step(1).id });
    assert.equal(rec(1)?.status, 'done');
    assert.equal(rec(1)?.manual, true);
  });

  it('refuses a report folder outside the workspace folder, and writes nothing there', async () => {
    const outside = path.resolve(folder, '..', `lifeboat-outside-${process.pid}`);
    await vscode.workspace.getConfiguration('lifeboat.runbook').update('reportFolder', `../${path.basename(outside)}`, vscode.ConfigurationTarget.Global);
    const written = await panel!.exportReport('outside');
    assert.equal(written, undefined);
    assert.equal(await fs.access(outside).then(() => true, () => false), false, 'the folder was not even created');
  });
});
