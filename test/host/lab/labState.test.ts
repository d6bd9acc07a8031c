// The Terraform state in the real extension host, on the lab's S3 server and Terraform stand-in:
// prod's versions under "Terraform state", a restore refused while a lock is held (no question
// asked, nothing written), and lab's fallback to the local backend and return with the modal
// confirmations answered. The dialogs are answered by replacing vscode.window's message functions
// for the test: the test bundle and the extension share one `vscode` API object.
// Changes only the lab environment's state (tfstate-lab: a lock object, removed again; the return
// writes the same state back as a new version) and files next to its backend.tf (removed again).
import * as assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as Minio from 'minio';
import * as vscode from 'vscode';
import type { RecoveryTreeProvider } from '../../../src/extension/views/recoveryTree';
import { poll } from '../suite/helpers';
import { labApi, rows, walk, type Row } from './labHelpers';

const S3 = { endPoint: '127.20.0.52', port: 9000 };

function s3(): Minio.Client {
  const accessKey = process.env['AWS_ACCESS_KEY_ID'];
  const secretKey = process.env['AWS_SECRET_ACCESS_KEY'];
  if (!accessKey || !secretKey) throw new Error('AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not set in the extension host: the runner must start code-server with .lab/env');
  return new Minio.Client({ ...S3, useSSL: false, accessKey, secretKey, pathStyle: true, region: 'us-east-1' });
}

async function versionIds(client: Minio.Client, bucket: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of client.listObjects(bucket, 'terraform.tfstate', true, { IncludeVersion: true }) as AsyncIterable<{ name: string; versionId?: string }>) {
    if (o.name === 'terraform.tfstate') out.push(o.versionId ?? 'null');
  }
  return out;
}

interface Shown { kind: 'warning' | 'error' | 'info'; message: string; modal: boolean; detail: string | undefined; items: string[] }

/**
 * Replaces showWarningMessage/showErrorMessage/showInformationMessage until `restore()`: each call is
 * recorded and resolves at once with the item `answer` names (undefined: dismissed, as Escape).
 */
function answerDialogs(answer: (shown: Shown) => string | undefined): { shown: Shown[]; restore(): void } {
  const w = vscode.window as unknown as Record<string, unknown>;
  const names = ['showWarningMessage', 'showErrorMessage', 'showInformationMessage'] as const;
  const original = Object.fromEntries(names.map((n) => [n, w[n]]));
  const shown: Shown[] = [];
  const titleOf = (i: unknown) => (typeof i === 'string' ? i : (i as vscode.MessageItem).title);
  for (const [name, kind] of [['showWarningMessage', 'warning'], ['showErrorMessage', 'error'], ['showInformationMessage', 'info']] as const) {
    w[name] = (message: string, ...rest: unknown[]) => {
      const first = rest[0];
      const options = typeof first === 'object' && first !== null && !('title' in first) ? (rest.shift() as vscode.MessageOptions) : undefined;
      const entry: Shown = { kind, message, modal: options?.modal === true, detail: options?.detail, items: rest.map(titleOf) };
      shown.push(entry);
      const chosen = answer(entry);
      return Promise.resolve(rest.find((i) => titleOf(i) === chosen));
    };
    if (w[name] === original[name]) throw new Error(`vscode.window.${name} cannot be replaced in this host`);
  }
  return { shown, restore: () => { for (const n of names) w[n] = original[n]; } };
}

/** Resolves with the command's result, or rejects when it waits (an unanswered question). */
async function settles<T>(command: string, arg: unknown, ms = 120_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      vscode.commands.executeCommand<T>(command, arg),
      new Promise<T>((_, reject) => { timer = setTimeout(() => reject(new Error(`${command} still waiting after ${ms / 1000} s`)), ms); }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function stateNode(tree: RecoveryTreeProvider, env: string): Promise<Row> {
  return walk(tree, env, 'Terraform state');
}

async function versionRows(tree: RecoveryTreeProvider, state: Row): Promise<Row[]> {
  return (await poll(() => rows(tree, state.element), (r) => r.some((x) => x.contextValue.startsWith('lifeboat.stateVersion')), 60_000))
    .filter((r) => r.contextValue.startsWith('lifeboat.stateVersion'));
}

describe('lab: Terraform state', () => {
  let tree: RecoveryTreeProvider;
  let client: Minio.Client;

  before(async () => {
    tree = (await labApi()).recoveryTree;
    client = s3();
  });

  it('prod → Terraform state: on S3 (Fall Back, not Return), every version newest first with serial and resource count, the current marked, the invalid one flagged', async () => {
    // The nodes' inventory, so the versions are compared with what runs.
    await walk(tree, 'prod', 'alpha', 'gitea');
    const state = await stateNode(tree, 'prod');
    assert.equal(state.contextValue, 'lifeboat.state.s3');
    assert.equal(state.description, 's3://tfstate-prod/terraform.tfstate');
    const versions = await versionRows(tree, state);
    const inS3 = await versionIds(client, 'tfstate-prod');
    // Every version of the object as S3 lists it, a page of 50 at a time (other suites may have added some).
    assert.equal(versions.length, Math.min(inS3.length, 50), 'every version of the object, as S3 lists it');
    const idOf = (v: Row) => (v.item.id ?? '').slice('env/prod/state/'.length);
    assert.equal(new Set(versions.map(idOf)).size, versions.length);
    for (const v of versions) assert.ok(inS3.includes(idOf(v)), `${v.item.id} is a version S3 lists`);
    const labels = versions.map((v) => v.label);
    assert.deepEqual(labels, [...labels].sort().reverse(), 'newest first');
    const current = versions.filter((v) => v.contextValue.startsWith('lifeboat.stateVersion.current'));
    assert.equal(current.length, 1);
    assert.match(current[0]!.description, /serial \d+ · \d+ resources · (≠ nodes · )?current$/, current[0]!.description);
    assert.equal(current[0]!.contextValue, 'lifeboat.stateVersion.current.valid');
    // The seeded interrupted write (the stand-in's tests may have written it again as a newer version).
    const invalid = versions.filter((v) => v.contextValue === 'lifeboat.stateVersion.old.invalid');
    assert.ok(invalid.length >= 1, 'the seeded interrupted write is flagged');
    for (const v of invalid) assert.match(v.description, /INVALID/);
    assert.ok(!versions.some((v) => v.contextValue.endsWith('.unknown')), 'every shown version was read');
    assert.ok(versions.filter((v) => v.contextValue.endsWith('.valid')).every((v) => /serial \d+ · \d+ resources/.test(v.description)));
    const tooltip = String(current[0]!.item.tooltip ?? '');
    assert.match(tooltip, /Compared with the nodes|not on the nodes|not in this version/, `the cached inventory compares: ${tooltip}`);
  });

  it('a held lock: the versions say who holds it, and Restore This Version is refused before any question, nothing written', async () => {
    const lock = JSON.stringify({ ID: 'b7e1c0de-0000-4000-8000-00000000beef', Operation: 'OperationTypeApply', Who: 'ops@laptop', Version: '1.9.8', Created: '2026-11-23T16:59:00Z', Path: 'tfstate-lab/terraform.tfstate' });
    await client.putObject('tfstate-lab', 'terraform.tfstate.tflock', Buffer.from(lock), Buffer.byteLength(lock));
    const dialogs = answerDialogs(() => undefined);
    try {
      await vscode.commands.executeCommand('lifeboat.refresh');
      const state = await stateNode(tree, 'lab');
      const children = await poll(() => rows(tree, state.element), (r) => r.some((x) => x.label === 'Locked by ops@laptop'), 30_000);
      assert.equal(children[0]?.label, 'Locked by ops@laptop', JSON.stringify(children.map((c) => c.label)));
      assert.match(children[0]!.description, /since 2026-11-23T16:59:00Z/);
      const old = children.find((c) => c.contextValue === 'lifeboat.stateVersion.old.valid');
      assert.ok(old, 'an older valid version of lab');
      const before = await versionIds(client, 'tfstate-lab');
      const outcome = await settles<{ status: string }>('lifeboat.restoreStateVersion', old.element);
      assert.equal(outcome.status, 'refused');
      assert.ok(!dialogs.shown.some((d) => d.modal), `no confirmation was asked: ${JSON.stringify(dialogs.shown)}`);
      const error = dialogs.shown.find((d) => d.kind === 'error');
      assert.match(error?.message ?? '', /Refused for lab: the state is locked by ops@laptop since 2026-11-23T16:59:00Z/, JSON.stringify(dialogs.shown));
      assert.deepEqual(await versionIds(client, 'tfstate-lab'), before, 'nothing written');
    } finally {
      dialogs.restore();
      await client.removeObject('tfstate-lab', 'terraform.tfstate.tflock');
      await vscode.commands.executeCommand('lifeboat.refresh');
    }
  });

  it('versioning suspended on the bucket: a red first item says rollback is impossible, and opens how to enable it', async () => {
    await client.setBucketVersioning('tfstate-lab', { Status: 'Suspended' });
    try {
      await vscode.commands.executeCommand('lifeboat.refresh');
      const state = await stateNode(tree, 'lab');
      const children = await poll(() => rows(tree, state.element), (r) => r.some((x) => /^Versioning is off/.test(x.label)), 30_000);
      const first = children[0]!;
      assert.equal(first.label, 'Versioning is off: rollback impossible — how to enable', JSON.stringify(children.map((c) => c.label)));
      assert.match(first.description, /Bucket tfstate-lab: versioning is Suspended/);
      const icon = first.item.iconPath as vscode.ThemeIcon;
      assert.equal(icon.id, 'error');
      assert.equal((icon.color as vscode.ThemeColor | undefined)?.id, 'errorForeground');
      assert.equal(first.item.command?.command, 'lifeboat.showVersioningHelp');
      await vscode.commands.executeCommand(first.item.command.command, ...(first.item.command.arguments ?? []));
      const doc = await poll(() => vscode.window.activeTextEditor?.document, (d) => d?.languageId === 'markdown' && d.getText().includes('mc version enable'), 15_000);
      assert.match(doc?.getText() ?? '', /# Versioning of tfstate-lab: Suspended[\s\S]*mc version enable lifeboat\/tfstate-lab/);
    } finally {
      await client.setBucketVersioning('tfstate-lab', { Status: 'Enabled' });
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
      await vscode.commands.executeCommand('lifeboat.refresh');
    }
  });

  it('lab falls back to the local backend and returns, each confirmation answered: the explorer follows, backend.tf is as before, the plan says No changes', async function () {
    this.timeout(240_000);
    const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
    const dir = path.join(root, 'infrastructure/proxmox/environments/lab');
    const backendFile = path.join(dir, 'backend.tf');
    const original = readFileSync(backendFile, 'utf8');
    const filesBefore = new Set(readdirSync(dir));
    // The answer to each plan's modal: its action button (what an operator clicks after reading).
    const dialogs = answerDialogs((d) => (d.modal ? d.items.find((i) => i === 'Switch to Local Backend' || i === 'Return to S3') : undefined));
    try {
      const fellBack = await settles<{ status: string; reportFile?: string }>('lifeboat.fallbackToLocal', { env: 'lab' });
      const modal = dialogs.shown.find((d) => d.modal);
      assert.ok(modal, 'the plan was shown in a modal');
      assert.deepEqual(modal.items, ['No, Change Nothing', 'Switch to Local Backend'], 'the default answer is no');
      assert.match(modal.detail ?? '', /terraform init -migrate-state -force-copy/);
      assert.equal(fellBack.status, 'succeeded', JSON.stringify(dialogs.shown.map((d) => d.message)));
      assert.match(readFileSync(backendFile, 'utf8'), /# Lifeboat fallback /);
      assert.ok(existsSync(path.join(dir, 'terraform.tfstate')));
      assert.match(readFileSync(fellBack.reportFile!, 'utf8'), /Terraform plan: `No changes\.`/);
      // The explorer: the environment and its state node say so, and only Return is offered.
      const fallbackState = await poll(() => stateNode(tree, 'lab'), (r) => r.contextValue === 'lifeboat.state.fallback', 30_000);
      assert.equal(fallbackState.contextValue, 'lifeboat.state.fallback');
      assert.match(fallbackState.description, /^LOCAL FALLBACK · S3 tfstate-lab set aside$/);
      const env = (await rows(tree)).find((r) => r.label === 'lab');
      assert.match(env?.description ?? '', /^state: local fallback · /, env?.description);

      dialogs.shown.length = 0;
      const returned = await settles<{ status: string; reportFile?: string }>('lifeboat.returnToS3', { env: 'lab' });
      assert.equal(returned.status, 'succeeded', JSON.stringify(dialogs.shown.map((d) => d.message)));
      assert.deepEqual(dialogs.shown.find((d) => d.modal)?.items, ['No, Change Nothing', 'Return to S3']);
      assert.equal(readFileSync(backendFile, 'utf8'), original, 'backend.tf as it was');
      assert.ok(!existsSync(path.join(dir, 'terraform.tfstate')), 'the local state was moved aside');
      assert.match(readFileSync(returned.reportFile!, 'utf8'), /Terraform plan: `No changes\.`/);
      const back = await poll(() => stateNode(tree, 'lab'), (r) => r.contextValue === 'lifeboat.state.s3', 30_000);
      assert.equal(back.contextValue, 'lifeboat.state.s3');
      assert.doesNotMatch((await rows(tree)).find((r) => r.label === 'lab')?.description ?? '', /fallback/);
    } finally {
      dialogs.restore();
      // The lab workspace as it was for the suites that follow (the reports and safety copies stay under .lifeboat).
      // A failure half-way leaves lab on its local backend: put it back on S3 for them.
      if (readFileSync(backendFile, 'utf8') !== original) writeFileSync(backendFile, original);
      for (const f of readdirSync(dir)) if (!filesBefore.has(f) && (f.includes('.lifeboat-') || f === 'terraform.tfstate')) rmSync(path.join(dir, f), { force: true });
      await vscode.commands.executeCommand('lifeboat.refresh');
    }
  });
});
