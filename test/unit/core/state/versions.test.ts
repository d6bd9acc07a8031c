import * as assert from 'node:assert/strict';
import { compareGuestsWithInventory, compareWithInventory, diffStates, sameState } from '../../../../src/core/state/diff';
import { instanceAddresses, parseState, resourceCount, stateGuests, stateMeta, type TerraformStateV4 } from '../../../../src/core/state/model';
import { findVersion, listStateVersions, sortNewestFirst, StateMetaCache, stateText, withStateMeta } from '../../../../src/core/state/versions';
import type { Inventory } from '../../../../src/core/inventory/model';
import { body, ctResource, FakeStore, stateDoc, vmResource } from './fakes';

const parsed = (doc: unknown): TerraformStateV4 => {
  const p = parseState(body(doc));
  if (!p.ok) throw new Error(p.reason);
  return p.state;
};

describe('state: versions and metadata', () => {
  it('reads serial, lineage, terraform version, resource count and output names of a valid v4 state', () => {
    const m = stateMeta(body(stateDoc(7, [vmResource('gitea', 121), ctResource('dns', 132)], { outputs: { b: { value: 1 }, a: { value: 'x' } } })));
    assert.equal(m.valid, true);
    assert.equal(m.serial, 7);
    assert.equal(m.lineage, '5951243d-557b-4c14-affe-dfa7c85e0853');
    assert.equal(m.terraformVersion, '1.9.8');
    assert.equal(m.resourceCount, 2);
    assert.deepEqual(m.outputNames, ['a', 'b']);
  });

  it('flags truncated JSON as invalid and still shows the serial it can read', () => {
    const full = JSON.stringify(stateDoc(9, [vmResource('gitea', 121)]), null, 2);
    const m = stateMeta(Buffer.from(full.slice(0, Math.floor(full.length * 0.6))));
    assert.equal(m.valid, false);
    assert.match(m.invalidReason ?? '', /not valid JSON/);
    assert.equal(m.serial, 9);
    assert.equal(m.resourceCount, 0);
  });

  it('refuses other state versions and wrong shapes with the reason', () => {
    assert.match(stateMeta(body({ ...stateDoc(1, []), version: 3 })).invalidReason ?? '', /format version 3, expected 4/);
    const noLineage = stateDoc(1, []) as Record<string, unknown>;
    delete noLineage['lineage'];
    assert.match(stateMeta(body(noLineage)).invalidReason ?? '', /lineage/);
    assert.match(stateMeta(body({ ...stateDoc(1, []), resources: [{ mode: 'managed', type: 'x' }] })).invalidReason ?? '', /resources\.0/);
    assert.equal(stateMeta(Buffer.from('')).valid, false);
    assert.equal(stateMeta(Buffer.from('[]')).valid, false);
  });

  it('builds addresses with the module prefix, data sources and index keys', () => {
    const s = parsed(stateDoc(1, [
      vmResource('gitea', 121),
      { mode: 'data', type: 'proxmox_virtual_environment_nodes', name: 'all', instances: [{ attributes: {} }] },
      { mode: 'managed', type: 'proxmox_virtual_environment_vm', name: 'web', instances: [{ index_key: 0, attributes: {} }, { index_key: 'b', attributes: {} }] },
    ]));
    assert.deepEqual(instanceAddresses(s), [
      'module.vms["gitea"].proxmox_virtual_environment_vm.this',
      'data.proxmox_virtual_environment_nodes.all',
      'proxmox_virtual_environment_vm.web[0]',
      'proxmox_virtual_environment_vm.web["b"]',
    ]);
  });

  it('lists newest first with the current marked, delete markers included, and reads metadata lazily once per version', async () => {
    const store = new FakeStore();
    store.put(body(stateDoc(1, [vmResource('gitea', 121)])));
    store.put(body(stateDoc(2, [vmResource('gitea', 121), ctResource('dns', 132)])));
    store.put(undefined); // delete marker
    store.put(body(stateDoc(3, [vmResource('gitea', 121)])));
    const cache = new StateMetaCache(store);
    const listed = await listStateVersions(store, { cache });
    assert.equal(listed.length, 4);
    assert.equal(store.reads, 0, 'listing alone reads no content');
    assert.deepEqual(listed.map((v) => [v.isLatest, v.isDeleteMarker]), [[true, false], [false, true], [false, false], [false, false]]);
    const withMeta = await listStateVersions(store, { cache, withMeta: 10 });
    assert.deepEqual(withMeta.map((v) => v.meta?.serial), [3, undefined, 2, 1]);
    assert.equal(store.reads, 3, 'delete markers are not read');
    await listStateVersions(store, { cache, withMeta: 10 });
    assert.equal(store.reads, 3, 'cached by version id');
  });

  it('reads the metadata of a later page on demand (a "Load more" page gets serials and counts too)', async () => {
    const store = new FakeStore();
    for (let i = 1; i <= 7; i++) store.put(body(stateDoc(i, Array.from({ length: i }, (_, k) => vmResource(`g${k}`, 100 + k)))));
    const cache = new StateMetaCache(store);
    const listed = await listStateVersions(store, { cache, withMeta: 3 });
    assert.deepEqual(listed.map((v) => v.meta?.serial), [7, 6, 5, undefined, undefined, undefined, undefined]);
    const page2 = await withStateMeta(listed.slice(3, 6), cache);
    assert.deepEqual(page2.map((v) => [v.meta?.serial, v.meta?.resourceCount]), [[4, 4], [3, 3], [2, 2]]);
    assert.equal(store.reads, 6);
    await withStateMeta(listed.slice(0, 6), cache);
    assert.equal(store.reads, 6, 'already read versions are not read again');
  });

  it('sorts by date whatever the store order, the current first on equal dates', () => {
    const at = new Date('2026-11-20T10:00:00Z');
    const later = new Date('2026-11-20T11:00:00Z');
    const sorted = sortNewestFirst([
      { versionId: 'a', lastModified: at, size: 1, isLatest: false, isDeleteMarker: false },
      { versionId: 'm', lastModified: later, size: 0, isLatest: false, isDeleteMarker: true },
      { versionId: 'c', lastModified: at, size: 1, isLatest: true, isDeleteMarker: false },
    ]);
    assert.deepEqual(sorted.map((v) => v.versionId), ['m', 'c', 'a']);
  });

  it('resolves version ids and current~N (delete markers skipped)', async () => {
    const store = new FakeStore();
    const v1 = store.put(body(stateDoc(1, [])));
    store.put(undefined);
    const v3 = store.put(body(stateDoc(3, [])));
    const versions = await store.listVersions();
    assert.equal(findVersion(versions, v1)?.versionId, v1);
    assert.equal(findVersion(versions, 'current')?.versionId, v3);
    assert.equal(findVersion(versions, 'current~1')?.versionId, v1);
    assert.equal(findVersion(versions, '~1')?.versionId, v1);
    assert.equal(findVersion(versions, 'current~5'), undefined);
    assert.equal(findVersion(versions, 'nope'), undefined);
  });

  it('pretty-prints valid states and keeps a damaged one as stored', () => {
    assert.equal(stateText(Buffer.from('{"version":4,"terraform_version":"1.9.8","serial":1,"lineage":"l","outputs":{},"resources":[]}')).split('\n')[1], '  "version": 4,');
    assert.equal(stateText(Buffer.from('{"version": 4, "seri')), '{"version": 4, "seri');
  });
});

describe('state: diff and help choosing', () => {
  const a = parsed(stateDoc(5, [vmResource('gitea', 121), vmResource('nextcloud', 122), ctResource('dns', 132)]));
  const b = parsed(stateDoc(6, [vmResource('gitea', 121, { memory: [{ dedicated: 4096 }] }), ctResource('dns', 132), ctResource('postgres', 131)], { lineage: 'other' }));

  it('summarises added, removed and changed addresses between two versions', () => {
    const d = diffStates(a, b);
    assert.deepEqual(d.added, ['module.containers["postgres"].proxmox_virtual_environment_container.this']);
    assert.deepEqual(d.removed, ['module.vms["nextcloud"].proxmox_virtual_environment_vm.this']);
    assert.deepEqual(d.changed, [{ address: 'module.vms["gitea"].proxmox_virtual_environment_vm.this', attributes: ['memory'] }]);
    assert.equal(d.unchanged, 1);
    assert.deepEqual(d.serial, { from: 5, to: 6 });
    assert.equal(d.lineageDiffers, true);
  });

  it('ignores attribute key order', () => {
    const x = parsed(stateDoc(1, [{ mode: 'managed', type: 't', name: 'n', instances: [{ attributes: { a: 1, b: { c: 1, d: 2 } } }] }]));
    const y = parsed(stateDoc(2, [{ mode: 'managed', type: 't', name: 'n', instances: [{ attributes: { b: { d: 2, c: 1 }, a: 1 } }] }]));
    assert.deepEqual(diffStates(x, y).changed, []);
  });

  it('says which resources a version has that the nodes do not, and the reverse for this environment', () => {
    const inventory = {
      loadedAt: new Date(), nodes: [], backups: [], jobs: [],
      guests: [
        { vmid: 121, type: 'qemu', name: 'gitea', node: 'alpha', status: 'running', lock: undefined, template: false, maxdiskBytes: undefined, tags: [] },
        { vmid: 131, type: 'lxc', name: 'postgres', node: 'alpha', status: 'running', lock: undefined, template: false, maxdiskBytes: undefined, tags: [] },
        { vmid: 201, type: 'qemu', name: 'k3s-test', node: 'beta', status: 'running', lock: undefined, template: false, maxdiskBytes: undefined, tags: [] },
      ],
    } as Inventory;
    const declared = [
      { name: 'gitea', kind: 'vm' as const }, { name: 'postgres', kind: 'container' as const }, { name: 'nextcloud', kind: 'vm' as const },
    ].map((d) => ({ ...d, environment: 'prod', node: 'alpha', ip: undefined, cores: undefined, memoryMiB: undefined, diskGiB: undefined, tags: [], vmid: undefined, range: { start: { line: 0, column: 0 }, end: { line: 0, column: 0 } } }));
    const c = compareWithInventory(a, inventory, declared);
    assert.deepEqual(c.missingOnNodes.map((r) => r.vmid), [122, 132]);
    assert.deepEqual(c.missingInState.map((g) => g.vmid), [131], 'k3s-test belongs to another environment');
    assert.deepEqual(compareWithInventory(a, inventory).missingInState.map((g) => g.vmid), [131, 201]);
    assert.deepEqual(stateGuests(a).map((g) => [g.vmid, g.node, g.name]), [[121, 'alpha', 'gitea'], [122, 'alpha', 'nextcloud'], [132, 'alpha', 'dns']]);
    // The metadata of a version carries the same guests, so a listing compares without reading it again.
    const meta = stateMeta(body(stateDoc(5, [vmResource('gitea', 121), vmResource('nextcloud', 122), ctResource('dns', 132)])));
    assert.deepEqual(compareGuestsWithInventory(meta.guests, inventory, declared), c);
  });

  it('counts resources one way everywhere: instances, not resource blocks', () => {
    const multi = parsed(stateDoc(3, [{ ...vmResource('gitea', 121), instances: [vmResource('gitea', 121).instances[0], { ...vmResource('x', 122).instances[0], index_key: 'x' }] }, ctResource('dns', 132)]));
    assert.equal(multi.resources.length, 2);
    assert.equal(resourceCount(multi), 3);
    assert.equal(stateMeta(body(multi)).resourceCount, 3);
  });

  it('tells the same content with other key order from other content', () => {
    assert.equal(sameState(a, parsed(JSON.parse(JSON.stringify(stateDoc(5, [vmResource('gitea', 121), vmResource('nextcloud', 122), ctResource('dns', 132)])).replace('"serial":5,"lineage"', '"lineage"').replace('"version":4,', '"version":4,"serial":5,')) as unknown)), true);
    assert.equal(sameState(a, b), false);
  });
});
