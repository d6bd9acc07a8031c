/**
 * A two-node homelab (alpha, beta) answering the read commands of loadInventory from the recorded
 * outputs in test/fixtures/pve/ (see its README). Node time zone: Europe/Paris, so vzdump names are
 * one hour ahead of UTC.
 *
 * alpha: gitea 121 (VM, running), nextcloud 122 (VM), postgres 131 (CT); storages local, local-lvm,
 *        backups (NFS, shared), pbs (shared). beta: k3s-test 201, sandbox 202 (never backed up);
 *        storages local, local-lvm, backups.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { FakeNodeShell, FakeNodeShellPool, json, type Answer } from './fakeNodeShell';

const FIXTURES = path.resolve(__dirname, '../fixtures/pve');

/** A recorded output, as text. */
export function fixture(name: string): string {
  return readFileSync(path.join(FIXTURES, name), 'utf8');
}

export function fixtureJson<T = unknown>(name: string): T {
  return JSON.parse(fixture(name)) as T;
}

/** The pvesh command line for a read (`pvesh get <path> [args] --output-format json`), as shell.ts prints it. */
export function pveshGet(apiPath: string, ...args: string[]): string {
  return ['pvesh', 'get', apiPath, ...args, '--output-format', 'json'].join(' ');
}

/** `pvesh get /nodes/<node>/tasks [--source …] [--vmid …] [--typefilter …] --output-format json`. */
export function tasksCommand(node: string): RegExp {
  return new RegExp(`^pvesh get /nodes/${node}/tasks( --[a-z]+ \\S+)* --output-format json$`);
}

/**
 * Answers a task-list read from `rows`, honouring `--vmid`, `--typefilter` and `--source active`.
 * With `realSource`, it lists running tasks (no `endtime`) only for `--source all|active`, as real PVE
 * does (default `archive` = finished tasks); without it, running tasks are always listed, as the lab
 * simulator does.
 */
export function taskListAnswer(rows: () => readonly Record<string, unknown>[], opts: { realSource?: boolean } = {}): Answer {
  return (command) => {
    const arg = (name: string) => new RegExp(`--${name} (\\S+)`).exec(command)?.[1];
    const source = arg('source') ?? 'archive';
    const vmid = arg('vmid');
    const type = arg('typefilter');
    return json(rows().filter((t) => {
      const running = t.endtime === undefined;
      if (source === 'active' && !running) return false;
      if (opts.realSource && source === 'archive' && running) return false;
      return (vmid === undefined || t.id === vmid) && (type === undefined || t.type === type);
    }));
  };
}

const raw = (text: string): Answer => ({ code: 0, stdout: text, stderr: '' });

/** A node answering /cluster/resources, its storages, their backup listings and the backup jobs. */
export function homelabNode(node: 'alpha' | 'beta'): FakeNodeShell {
  const s = new FakeNodeShell(node)
    .on(pveshGet('/cluster/resources', '--type', 'vm'), raw(fixture('cluster-resources-vm.json')))
    .on(pveshGet('/cluster/backup'), raw(fixture('backup-jobs.json')))
    .on(pveshGet(`/nodes/${node}/storage`), raw(fixture(`storage-${node}.json`)))
    .on(pveshGet(`/nodes/${node}/storage/local/content`, '--content', 'backup'), raw(fixture(`content-local-${node}.json`)))
    .on(pveshGet(`/nodes/${node}/storage/backups/content`, '--content', 'backup'), raw(fixture('content-backups.json')));
  if (node === 'alpha') {
    s.on(pveshGet('/nodes/alpha/storage/pbs/content', '--content', 'backup'), raw(fixture('content-pbs.json')));
  }
  return s;
}

export function homelab(): { alpha: FakeNodeShell; beta: FakeNodeShell; pool: FakeNodeShellPool } {
  const alpha = homelabNode('alpha');
  const beta = homelabNode('beta');
  return { alpha, beta, pool: new FakeNodeShellPool(alpha, beta) };
}

export const NODES = [
  { name: 'alpha', host: '10.20.0.10' },
  { name: 'beta', host: '10.20.0.11' },
] as const;

export { json };
