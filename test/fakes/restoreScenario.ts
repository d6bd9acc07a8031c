/**
 * A guest-restore scenario on the fake homelab: the inventory loaded from the fixtures, node alpha
 * answering the planning reads (task list, `pvesm path`, `extractconfig`) and, for a run, the
 * commands of each step: integrity check, shutdown, vzdump safety point, the detached restore, its
 * task (appearing in the task list, then log + status until `TASK OK`), start, and address reads.
 *
 *   const s = await restoreScenario();             // options change the fixtures before loading
 *   const { plan, facts } = await planGuestRestore({ vmid: 121 }, s.deps);
 *   const report = await runPlan(plan, { signal, log: s.log, aftermath: (f) => restoreAftermath(facts, f) });
 *   s.alpha.commands                               // everything alpha received
 */
import { loadInventory } from '../../src/core/inventory/load';
import type { Inventory } from '../../src/core/inventory/model';
import type { DeclaredGuest } from '../../src/core/model/environment';
import type { GuestRestoreDeps } from '../../src/core/restore/guestRestore';
import { FakeNodeShell, FakeProbe, RecordingLogSink, instantSleep, json, type Answer } from './fakeNodeShell';
import { NODES, fixture, fixtureJson, homelab, pveshGet, taskListAnswer, tasksCommand } from './pveHomelab';

export const RESTORE_UPID = 'UPID:alpha:000668A1:00989299:6B01D068:qmrestore:121:root@pam:';
export const CT_RESTORE_UPID = 'UPID:alpha:000668A2:0098929A:6B01D068:vzrestore:131:root@pam:';
export const LAUNCH_EPOCH = 1795281000;
export const SAFETY_FILE = 'vzdump-qemu-121-2026_11_21-18_10_00.vma.zst';
export const SAFETY_VOLID = `backups:backup/${SAFETY_FILE}`;
export const CT_SAFETY_FILE = 'vzdump-lxc-131-2026_11_21-18_10_00.tar.zst';

export interface ScenarioOptions {
  /** Replace rows of `pvesh get /cluster/resources --type vm` before loading (e.g. add a lock). */
  readonly resources?: (rows: Record<string, unknown>[]) => Record<string, unknown>[];
  /** Replace alpha's storages before loading. */
  readonly alphaStorages?: (rows: Record<string, unknown>[]) => Record<string, unknown>[];
  /** Replace the shared `backups` listing before loading. */
  readonly backupsContent?: (rows: Record<string, unknown>[]) => Record<string, unknown>[];
  readonly declared?: readonly DeclaredGuest[];
  /** Addresses that accept TCP (default: gitea's and postgres' addresses). */
  readonly open?: readonly string[];
}

export interface Scenario {
  readonly alpha: FakeNodeShell;
  readonly beta: FakeNodeShell;
  readonly inventory: Inventory;
  readonly probe: FakeProbe;
  readonly log: RecordingLogSink;
  readonly deps: GuestRestoreDeps;
  /** Commands received since planning ended (the run's commands). */
  runCommands(): string[];
  markPlanned(): void;
}

export function declaredGuest(name: string, kind: 'vm' | 'container', over: Partial<DeclaredGuest> = {}): DeclaredGuest {
  return {
    name, kind, environment: 'prod', node: 'alpha', ip: undefined, cores: undefined, memoryMiB: undefined, diskGiB: undefined, tags: [], vmid: undefined,
    range: { start: { line: 0, column: 0 }, end: { line: 0, column: 0 } }, ...over,
  };
}

/** `pvesm path` as a node answers it for the fixtures' storages. */
function pvesmPath(command: string) {
  const m = /^pvesm path ([a-z0-9-]+):backup\/(\S+)$/.exec(command);
  if (!m) return { code: 255, stderr: `unable to parse volume ID '${command.slice(11)}'\n` };
  const dir = m[1] === 'local' ? '/var/lib/vz/dump' : `/mnt/pve/${m[1]}/dump`;
  return { stdout: `${dir}/${m[2]}\n` };
}

export async function restoreScenario(options: ScenarioOptions = {}): Promise<Scenario> {
  const { alpha, beta, pool } = homelab();
  if (options.resources) {
    const rows = options.resources(fixtureJson('cluster-resources-vm.json'));
    for (const s of [alpha, beta]) s.on(pveshGet('/cluster/resources', '--type', 'vm'), json(rows));
  }
  if (options.alphaStorages) alpha.on(pveshGet('/nodes/alpha/storage'), json(options.alphaStorages(fixtureJson('storage-alpha.json'))));
  if (options.backupsContent) {
    const rows = options.backupsContent(fixtureJson('content-backups.json'));
    for (const s of [alpha, beta]) s.on(pveshGet(`/nodes/${s.node}/storage/backups/content`, '--content', 'backup'), json(rows));
  }
  const log = new RecordingLogSink();
  const inventory = await loadInventory({ nodes: NODES, pool, log });

  // ---- planning reads -------------------------------------------------------------------------
  const finished = fixtureJson<Record<string, unknown>[]>('tasks-alpha.json');
  let launched: { type: string; vmid: string; upid: string } | undefined;
  let polls = 0;
  alpha.on(tasksCommand('alpha'), taskListAnswer(() => {
    // The restore's task shows up on the second look after the launch (the worker needs a moment).
    if (launched && ++polls >= 2) {
      return [{ id: launched.vmid, node: 'alpha', pid: 420001, pstart: 9999001, starttime: LAUNCH_EPOCH, type: launched.type, upid: launched.upid, user: 'root@pam' }, ...finished];
    }
    return finished;
  }));
  alpha.on(/^pvesm path /, pvesmPath);
  alpha.on(/^pvesh get \/nodes\/alpha\/vzdump\/extractconfig --volume \S*(qemu-121|vm\/121)/, json(fixture('extractconfig-qemu-121.conf')));
  alpha.on(/^pvesh get \/nodes\/alpha\/vzdump\/extractconfig --volume \S*(lxc-131|ct\/131)/, json(fixture('extractconfig-lxc-131.conf')));

  // ---- the run ----------------------------------------------------------------------------------
  alpha.on(/^test -s \S+ && (zstd -q -t|gzip -t|lzop -t|vma verify|tar -tf) \S+$/, { code: 0 });
  alpha.on(/^(qm|pct) shutdown \d+ --timeout \d+$/, { code: 0 });
  alpha.on(/^(qm|pct) start \d+$/, { code: 0 });
  alpha.on(/^vzdump (121|131) --storage \S+ --mode snapshot --compress zstd --notes-template 'Lifeboat safety point before restore'$/, (command) =>
    ({ code: 0, stdout: command.startsWith('vzdump 131') ? vzdumpOutput('/mnt/pve/backups/dump', CT_SAFETY_FILE) : vzdumpOutput('/mnt/pve/backups/dump') }));
  alpha.on(/^date \+%s; setsid nohup (qmrestore \S+ \d+|pct restore \d+ \S+)/, (command) => {
    const ct = / pct restore (\d+) /.exec(command);
    const vmid = ct?.[1] ?? / qmrestore \S+ (\d+)/.exec(command)?.[1] ?? '?';
    launched = ct
      ? { type: 'vzrestore', vmid, upid: CT_RESTORE_UPID.replace(':131:', `:${vmid}:`) }
      : { type: 'qmrestore', vmid, upid: RESTORE_UPID.replace(':121:', `:${vmid}:`) };
    return { stdout: `${LAUNCH_EPOCH}\n420001\n` };
  });
  alpha.on(/^kill -0 420001 /, { stdout: 'alive\n' });
  const log1 = fixtureJson<{ n: number; t: string }[]>('task-log-ok.json');
  alpha.on(/^pvesh get \/nodes\/alpha\/tasks\/UPID:[^/]+\/log --start (\d+) /, (command, call) => {
    const start = Number(/--start (\d+)/.exec(command)?.[1]);
    // First look: the task is half-way; then the rest.
    const upto = call.index === 0 ? 9 : log1.length;
    return json(log1.slice(start, upto));
  });
  const status = (name: string): Answer => () => json({ ...fixtureJson<Record<string, unknown>>(name), upid: launched?.upid, id: launched?.vmid, type: launched?.type });
  alpha.on(/^pvesh get \/nodes\/alpha\/tasks\/UPID:[^/]+\/status /, status('task-status-running.json'), status('task-status-ok.json'));
  alpha.on(pveshGet('/nodes/alpha/qemu/121/agent/network-get-interfaces'), json(fixtureJson('agent-interfaces-121.json')));
  alpha.on(pveshGet('/nodes/alpha/qemu/121/config'), json(fixtureJson('config-qemu-121.json')));
  alpha.on(pveshGet('/nodes/alpha/lxc/131/interfaces'), json(fixtureJson('lxc-interfaces-131.json')));
  alpha.on(pveshGet('/nodes/alpha/lxc/131/config'), json(fixtureJson('config-lxc-131.json')));

  const probe = new FakeProbe(options.open ?? ['10.20.0.21', '10.20.0.31']);
  let plannedAt = Infinity;
  const deps: GuestRestoreDeps = {
    inventory,
    shell: (node) => pool.shell({ name: node, host: node === 'alpha' ? '10.20.0.10' : '10.20.0.11' }),
    probe,
    sleep: instantSleep(),
    log,
    declared: options.declared ?? [declaredGuest('gitea', 'vm', { ip: '10.20.0.21' }), declaredGuest('postgres', 'container', { ip: '10.20.0.31' })],
    activeRestores: new Set<number>(),
    timing: { pollMs: 10, appearTimeoutMs: 60_000, reconnectAttempts: 3, bootTimeoutMs: 0 },
  };
  return {
    alpha, beta, inventory, probe, log, deps,
    markPlanned: () => { plannedAt = alpha.commands.length; },
    runCommands: () => alpha.commands.slice(plannedAt === Infinity ? 0 : plannedAt),
  };
}

/** vzdump's output for the safety point (reference §10), the archive in `dumpDir`. */
export function vzdumpOutput(dumpDir: string, file = SAFETY_FILE): string {
  return [
    "INFO: starting new backup job: vzdump 121 --storage backups --mode snapshot --compress zstd --notes-template 'Lifeboat safety point before restore'",
    'INFO: Starting Backup of VM 121 (qemu)',
    'INFO: Backup started at 2026-11-21 18:10:00',
    'INFO: status = stopped',
    'INFO: backup mode: stop',
    `INFO: creating vzdump archive '${dumpDir}/${file}'`,
    'INFO:  50% (20.0 GiB of 40.0 GiB) in 4s, read: 5.0 GiB/s, write: 0 B/s',
    'INFO: 100% (40.0 GiB of 40.0 GiB) in 8s, read: 5.0 GiB/s, write: 120.3 MiB/s',
    'INFO: archive file size: 2.11GB',
    'INFO: adding notes to backup',
    'INFO: Finished Backup of VM 121 (00:00:09)',
    'INFO: Backup finished at 2026-11-21 18:10:09',
    'INFO: Backup job finished successfully',
    '',
  ].join('\n');
}

/** True for commands that only read (what planning may send). */
export function isReadOnly(command: string): boolean {
  return /^pvesh get /.test(command) || /^pvesm path /.test(command);
}
