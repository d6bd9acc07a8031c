/** How the Terraform state looks in the explorer, and the documents the state commands open (plain Node, no vscode). */
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Inventory } from '../../../src/core/inventory/model';
import { compareGuestsWithInventory, diffStates } from '../../../src/core/state/diff';
import { parseState, stateMeta } from '../../../src/core/state/model';
import type { StateVersion } from '../../../src/core/state/versions';
import { diffCounts, diffSummaryMarkdown, importGuideMarkdown, versioningHelpMarkdown } from '../../../src/extension/commands/stateDocs';
import { ContextValues } from '../../../src/extension/views/contextValues';
import { environmentStateMark, stateModeOf, stateNodeLook, stateNotices, stateVersionLook } from '../../../src/extension/views/stateLook';
import { body, ctResource, environment, s3Backend, stateDoc, vmResource } from '../core/state/fakes';

/** English, with the placeholders filled: what an operator reads. */
const t = (m: string, ...args: (string | number | boolean)[]) => m.replace(/\{(\d+)\}/g, (_, i: string) => String(args[Number(i)]));
const now = new Date('2026-11-23T18:00:00Z');

function version(over: Partial<StateVersion> & { doc?: unknown } = {}): StateVersion {
  const { doc, ...rest } = over;
  return { versionId: 'v1', lastModified: new Date('2026-11-23T12:00:00Z'), size: 100, isLatest: false, isDeleteMarker: false, meta: doc === undefined ? undefined : stateMeta(body(doc)), ...rest };
}

const inventory = {
  loadedAt: now, nodes: [], backups: [], jobs: [],
  guests: [
    { vmid: 121, type: 'qemu', name: 'gitea', node: 'alpha', status: 'running', lock: undefined, template: false, maxdiskBytes: undefined, tags: [] },
    { vmid: 131, type: 'lxc', name: 'postgres', node: 'alpha', status: 'running', lock: undefined, template: false, maxdiskBytes: undefined, tags: [] },
  ],
} as Inventory;

describe('explorer: the Terraform state', () => {
  it('tells an environment on S3, on Lifeboat\'s fallback and local by design apart, each with its own context value', () => {
    const onS3 = environment('/x');
    const fallback = environment('/x', { backend: { type: 'local', commentedOut: s3Backend(), lifeboatFallback: true } });
    const bootstrap = environment('/x', { backend: { type: 'local', commentedOut: s3Backend({ bucket: 'tfstate-monitoring' }) } });
    assert.deepEqual([onS3, fallback, bootstrap].map(stateModeOf), ['s3', 'fallback', 'local']);
    assert.deepEqual([onS3, fallback, bootstrap].map((e) => stateNodeLook(e, t).contextValue), [ContextValues.stateS3, ContextValues.stateFallback, ContextValues.stateLocal]);
    assert.match(stateNodeLook(fallback, t).description, /^LOCAL FALLBACK · S3 tfstate-prod set aside$/);
    assert.equal(environmentStateMark(onS3, t), undefined);
    assert.equal(environmentStateMark(bootstrap, t), undefined, 'the monitoring bootstrap is not a fallback');
    assert.equal(environmentStateMark(fallback, t)?.description, 'state: local fallback');
  });

  it('package.json offers Fall Back only on S3 and Return only in fallback, through the context values of contextValues.ts', () => {
    const manifest = JSON.parse(readFileSync(path.resolve(__dirname, '../../../package.json'), 'utf8')) as { contributes: { menus: Record<string, { command: string; when?: string }[]> } };
    const items = manifest.contributes.menus['view/item/context']!;
    const when = (command: string) => items.filter((m) => m.command === command).map((m) => m.when ?? '');
    assert.deepEqual(when('lifeboat.fallbackToLocal'), [`view == lifeboat.recovery && viewItem == ${ContextValues.stateS3}`]);
    assert.deepEqual(when('lifeboat.returnToS3'), [`view == lifeboat.recovery && viewItem == ${ContextValues.stateFallback}`]);
    // Every exact state viewItem a menu names is one contextValues.ts defines.
    const named = items.flatMap((m) => [...(m.when ?? '').matchAll(/viewItem == (lifeboat\.state[\w.]*)/g)].map((x) => x[1]!));
    for (const v of named) assert.ok((Object.values(ContextValues) as string[]).includes(v), `${v} is not in ContextValues`);
  });

  it('a version: serial and resource count, current marked, invalid flagged; one not read yet is never "valid"', () => {
    const current = stateVersionLook(version({ isLatest: true, doc: stateDoc(7, [vmResource('gitea', 121)]) }), now, t);
    assert.equal(current.description, '6 h ago · serial 7 · 1 resources · current');
    assert.equal(current.contextValue, 'lifeboat.stateVersion.current.valid');
    const invalid = stateVersionLook(version({ doc: undefined, meta: stateMeta(Buffer.from('{"version": 4, "ser')) }), now, t);
    assert.equal(invalid.contextValue, 'lifeboat.stateVersion.old.invalid');
    assert.equal(invalid.icon, 'error');
    const unread = stateVersionLook(version(), now, t);
    assert.equal(unread.contextValue, 'lifeboat.stateVersion.old.unknown', 'the Restore menu needs .valid');
    assert.match(unread.description, /not read yet/);
    assert.equal(stateVersionLook(version({ isDeleteMarker: true }), now, t).contextValue, 'lifeboat.stateVersion.deleteMarker');
  });

  it('a version compared with the nodes says, in its tooltip, which guests it has that the nodes do not, and the reverse', () => {
    const v = version({ doc: stateDoc(5, [vmResource('gitea', 121), vmResource('nextcloud', 122)]) });
    const c = compareGuestsWithInventory(v.meta!.guests, inventory);
    const look = stateVersionLook(v, now, t, c);
    assert.match(look.description, /≠ nodes/);
    assert.match(look.tooltip, /In this version, not on the nodes \(Terraform would recreate them\): nextcloud \(122\)/);
    assert.match(look.tooltip, /On the nodes, not in this version \(Terraform would create duplicates\): postgres \(131\)/);
    const same = version({ doc: stateDoc(6, [vmResource('gitea', 121), ctResource('postgres', 131)]) });
    assert.match(stateVersionLook(same, now, t, compareGuestsWithInventory(same.meta!.guests, inventory)).tooltip, /Compared with the nodes: the same guests \(2\)/);
    assert.doesNotMatch(stateVersionLook(v, now, t).tooltip, /nodes/, 'no inventory cached: nothing claimed');
  });

  it('says versioning is off first, in red, with how to enable it; then a held lock', () => {
    const notices = stateNotices('prod', 'tfstate-prod', 'Suspended', JSON.stringify({ Who: 'ops@laptop', Created: '2026-11-23T16:59:00Z' }), t);
    assert.deepEqual(notices.map((n) => n.text), ['Versioning is off: rollback impossible — how to enable', 'Locked by ops@laptop']);
    assert.equal(notices[0]!.color, 'errorForeground');
    assert.equal(notices[0]!.command, 'showVersioningHelp');
    assert.match(notices[0]!.detail, /versioning is Suspended/);
    assert.match(notices[1]!.detail, /since 2026-11-23T16:59:00Z/);
    assert.deepEqual(stateNotices('prod', 'b', 'Enabled', undefined, t), []);
    assert.deepEqual(stateNotices('prod', 'b', undefined, undefined, t), [], 'not checked is not claimed off');
  });
});

describe('state documents', () => {
  const parsed = (doc: unknown) => {
    const p = parseState(body(doc));
    if (!p.ok) throw new Error(p.reason);
    return p.state;
  };

  it('the diff summary lists the addresses added, removed and changed, and each side against the nodes', () => {
    const a = parsed(stateDoc(5, [vmResource('gitea', 121), vmResource('nextcloud', 122)]));
    const b = parsed(stateDoc(6, [vmResource('gitea', 121, { memory: [{ dedicated: 4096 }] }), ctResource('postgres', 131)]));
    const d = diffStates(a, b);
    assert.equal(diffCounts(d), '+1 −1 ~1');
    const md = diffSummaryMarkdown('prod', { label: 'A', versionId: 'va', vsNodes: compareGuestsWithInventory(stateMeta(body(stateDoc(5, [vmResource('gitea', 121), vmResource('nextcloud', 122)]))).guests, inventory) }, { label: 'B', versionId: 'vb', vsNodes: undefined }, d, t);
    assert.match(md, /## Added \(in B, not in A\)\n\n- `module\.containers\["postgres"\]\.proxmox_virtual_environment_container\.this`/);
    assert.match(md, /## Removed \(in A, not in B\)\n\n- `module\.vms\["nextcloud"\]\.proxmox_virtual_environment_vm\.this`/);
    assert.match(md, /## Changed\n\n- `module\.vms\["gitea"\]\.proxmox_virtual_environment_vm\.this` — memory/);
    assert.match(md, /### A\n\n- in this version, not on the nodes: module\.vms\["nextcloud"\]\.proxmox_virtual_environment_vm\.this \(VMID 122\)/);
    assert.match(md, /on the nodes, not in this version: 131 postgres on alpha/);
  });

  it('the import guide shows the commands, what is assumed, and says when the VMIDs are placeholders', () => {
    const md = importGuideMarkdown({
      env: 'prod', dir: '/repo/prod', reason: 'MinIO is unreachable and there is no local copy: the state is lost.', withNodes: false,
      imports: [{ address: 'module.vms["gitea"].proxmox_virtual_environment_vm.this', id: undefined, command: 'terraform import \'module.vms["gitea"].proxmox_virtual_environment_vm.this\' <node>/<vmid of gitea>', note: 'no guest named gitea on the nodes that could be read', assumed: 'no module iterating over vms' }],
    }, t);
    assert.match(md, /```sh\ncd \/repo\/prod\nterraform import 'module\.vms\["gitea"\]/);
    assert.match(md, /address assumed: no module iterating over vms/);
    assert.match(md, /the VMIDs are placeholders/);
    assert.match(md, /> MinIO is unreachable/);
  });

  it('the versioning help gives the exact commands for the bucket', () => {
    const md = versioningHelpMarkdown('tfstate-prod', 'http://127.20.0.52:9000', 'Suspended', t);
    assert.match(md, /mc version enable lifeboat\/tfstate-prod/);
    assert.match(md, /aws s3api put-bucket-versioning --bucket tfstate-prod --versioning-configuration Status=Enabled --endpoint-url http:\/\/127\.20\.0\.52:9000/);
  });
});
