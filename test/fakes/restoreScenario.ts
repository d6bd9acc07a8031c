/**
 * A guest-restore scenario on the fake homelab: the inventory loaded from the fixtures, node alpha
 * answering the planning reads (task list, `pvesm path`, `extractconfig`) and, for a run, the
 * commands of each step: integrity check, shutdown, the detached vzdump safety point and the
 * detached restore. Each detached launch creates a task of its own (UPID, log, status): it appears
 * in the task list on the second look after its launch, its log is served half-way on the first
 * read and complete after, its status is `running` once then `stopped` with its exit status; then
 * start, and address reads.
 *
 *   const s = await restoreScenario();             // options change the fixtures before loading
 *   const { plan, facts } = await planGuestRestore({ vmid: 121 }, s.deps);
 *   const report = await runPlan(plan, { signal, log: s.log, aftermath: (f) => restoreAftermath(facts, f) });
 *   s.alpha.commands                               // everything alpha received
 *   s.alpha.on(taskCommand(RESTORE_UPID, 'status'), …)   // override one task's answers, not the other's
 */
import { loadInventory } from '../../src/core/inventory/load';
import type { Inventory } from '../../src/core/inventory/model';
import type { DeclaredGuest } from '../../src/core/model/environment';
import type { GuestRestoreDeps } from '../../src/core/restore/guestRestore';
import { FakeNodeShell, FakeProbe, RecordingLogSink, connectionLost, fail, instantSleep, json } from './fakeNodeShell';
import { NODES, fixture, fixtureJson, homelab, pveshGet, taskListAnswer, tasksCommand } from './pveHomelab';

/** The restore: launched at LAUNCH_EPOCH (17:10:00 UTC) with pid 420001, as the task fixtures say. */
export const RESTORE_UPID = 'UPID:alpha:000668A1:00989299:6B01D068:qmrestore:121:root@pam:';
export const CT_RESTORE_UPID = 'UPID:alpha:000668A2:0098929A:6B01D068:vzrestore:131:root@pam:';
export const LAUNCH_EPOCH = 1795281000;
export const RESTORE_PID = 420001;
/** The safety point's vzdump: launched 12 s before the restore (17:09:48 UTC = 18:09:48 on the node), pid 419870. */
export const SAFETY_EPOCH = LAUNCH_EPOCH - 12;
export const SAFETY_PID = 419870;
export const SAFETY_UPID = 'UPID:alpha:0006681E:0098928E:6B01D05C:vzdump:121:root@pam:';
export const CT_SAFETY_UPID = 'UPID:alpha:0006681E:0098928E:6B01D05C:vzdump:131:root@pam:';
export const SAFETY_FILE = 'vzdump-qemu-121-2026_11_21-18_09_48.vma.zst';
export const SAFETY_VOLID = `backups:backup/${SAFETY_FILE}`;
export const CT_SAFETY_FILE = 'vzdump-lxc-131-2026_11_21-18_09_48.tar.zst';
/** What vzdump names a PBS snapshot made at SAFETY_EPOCH (relative to the datastore). */
export const PBS_SAFETY_SNAPSHOT = 'vm/121/2026-11-21T17:09:48Z';
export const SAFETY_NOTES = 'Lifeboat safety point before restore';

/** The command that reads a task's log (`what: 'log'`) or status, for this UPID only. */
export function taskCommand(upid: string, what: 'log' | 'status', node = 'alpha'): RegExp {
  const escaped = upid.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^pvesh get /nodes/${node}/tasks/${escaped}/${what === 'log' ? 'log --start \\d+ --limit 500' : 'status'} --output-format json$`);
}

/** A task log as `pvesh get …/log` prints it: `{n, t}` numbered from 1. */
export function taskLog(lines: readonly string[]): { n: number; t: string }[] {
  return lines.map((t, i) => ({ n: i + 1, t }));
}

export interface ScenarioOptions {
  /** Replace rows of `pvesh get /cluster/resources --type vm` before loading (e.g. add a lock). */
  readonly resources?: (rows: Record<string, unknown>[]) => Record<string, unknown>[];
  /** Replace alpha's storages before loading. */
  readonly alphaStorages?: (rows: Record<string, unknown>[]) => Record<string, unknown>[];
  /** Replace the shared `backups` listing before loading. */
  readonly backupsContent?: (rows: Record<string, unknown>[]) => Record<string, unknown>[];
  /** Replace alpha's `local` backup listing before loading. */
  readonly alphaLocalContent?: (rows: Record<string, unknown>[]) => Record<string, unknown>[];
  readonly declared?: readonly DeclaredGuest[];
  /** Addresses that accept TCP (default: gitea's and postgres' addresses). */
  readonly open?: readonly string[];
  /**
   * The safety point's vzdump task: its log lines (default: vzdump's output for the guest and the
   * storage, `TASK OK` last) and its exit status (default `OK`).
   */
  readonly safetyTask?: { readonly log?: (defaults: string[]) => string[]; readonly exitstatus?: string };
  /**
   * The connection drops while the launch's answer is on its way: the command runs on the node (its
   * task appears, its log file exists) but Lifeboat never reads its epoch and pid.
   */
  readonly loseLaunchAnswer?: 'safety' | 'restore';
}

/** A task the fake node runs: it appears in the task list, then serves its log and status. */
interface FakeTask {
  readonly type: string;
  readonly vmid: string;
  readonly upid: string;
  readonly pid: number;
  readonly pstart: number;
  readonly starttime: number;
  readonly log: readonly string[];
  /** How many log lines the first read returns (the task is half-way). */
  readonly firstRead: number;
  readonly exitstatus: string;
  logReads: number;
  statusReads: number;
  ended: boolean;
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
  if (options.alphaLocalContent) {
    alpha.on(pveshGet('/nodes/alpha/storage/local/content', '--content', 'backup'), json(options.alphaLocalContent(fixtureJson('content-local-alpha.json'))));
  }
  const log = new RecordingLogSink();
  const inventory = await loadInventory({ nodes: NODES, pool, log });

  // ---- planning reads -------------------------------------------------------------------------
  const finished = fixtureJson<Record<string, unknown>[]>('tasks-alpha.json');
  const tasks: FakeTask[] = [];
  let looksSinceLaunch = 0;
  const taskRow = (t: FakeTask): Record<string, unknown> => ({
    id: t.vmid, node: 'alpha', pid: t.pid, pstart: t.pstart, starttime: t.starttime, type: t.type, upid: t.upid, user: 'root@pam',
    ...(t.ended ? { endtime: t.starttime + 9, status: t.exitstatus } : {}),
  });
  alpha.on(tasksCommand('alpha'), taskListAnswer(() => {
    // A launched task shows up on the second look after its launch (the worker needs a moment).
    const shown = ++looksSinceLaunch >= 2 ? tasks : tasks.slice(0, -1);
    return [...shown.map(taskRow).reverse(), ...finished];
  }));
  alpha.on(/^pvesm path /, pvesmPath);
  alpha.on(/^pvesh get \/nodes\/alpha\/vzdump\/extractconfig --volume \S*(qemu-121|vm\/121)/, json(fixture('extractconfig-qemu-121.conf')));
  alpha.on(/^pvesh get \/nodes\/alpha\/vzdump\/extractconfig --volume \S*(lxc-131|ct\/131)/, json(fixture('extractconfig-lxc-131.conf')));

  // ---- the run ----------------------------------------------------------------------------------
  /** Log files of the commands launched so far (what `test -e <log>` finds on the node). */
  const launchedLogs = new Set<string>();
  const launch = (t: Omit<FakeTask, 'logReads' | 'statusReads' | 'ended'>, command: string, which: 'safety' | 'restore') => {
    tasks.push({ ...t, logReads: 0, statusReads: 0, ended: false });
    looksSinceLaunch = 0;
    launchedLogs.add(/ > (\S+) 2>&1 < \/dev\/null & echo \$!$/.exec(command)?.[1] ?? '?');
    if (options.loseLaunchAnswer === which) return connectionLost('alpha');
    return { stdout: `${t.starttime}\n${t.pid}\n` };
  };
  alpha.on(/^date \+%s; test -e (\S+) && echo started \|\| echo absent$/, (command) => {
    const log = /test -e (\S+) /.exec(command)?.[1] ?? '';
    return { stdout: `${(tasks.at(-1)?.starttime ?? LAUNCH_EPOCH) + 1}\n${launchedLogs.has(log) ? 'started' : 'absent'}\n` };
  });
  alpha.on(/^test -s \S+ && (zstd -q -t|gzip -t|lzop -t|vma verify|tar -tf) \S+$/, { code: 0 });
  alpha.on(/^(qm|pct) shutdown \d+ --timeout \d+$/, { code: 0 });
  alpha.on(/^(qm|pct) start \d+$/, { code: 0 });
  alpha.on(/^date \+%s; setsid nohup vzdump (121|131) --storage (\S+) --mode snapshot --compress zstd --remove 0 --protected 1 --notes-template 'Lifeboat safety point before restore' > \/tmp\/lifeboat-restore-\1-\w+-safety\.log 2>&1 < \/dev\/null & echo \$!$/, (command) => {
    const [, vmid, storage] = /vzdump (\d+) --storage (\S+) /.exec(command)!;
    const defaults = vzdumpLog(vmid === '131' ? 'lxc' : 'qemu', storage!);
    const log = options.safetyTask?.log?.(defaults) ?? defaults;
    // First read: up to vzdump's 50% line (or, without progress lines, its archive line).
    const at = (re: RegExp) => log.findIndex((l) => re.test(l)) + 1;
    const half = at(/^INFO:\s+50% \(/) || at(/creating (vzdump|Proxmox Backup Server) archive/);
    return launch({
      type: 'vzdump', vmid: vmid!, upid: vmid === '131' ? CT_SAFETY_UPID : SAFETY_UPID, pid: SAFETY_PID, pstart: 9998990, starttime: SAFETY_EPOCH,
      log, firstRead: half > 0 ? half : Math.ceil(log.length / 2), exitstatus: options.safetyTask?.exitstatus ?? 'OK',
    }, command, 'safety');
  });
  const restoreLog = fixtureJson<{ n: number; t: string }[]>('task-log-ok.json').map((l) => l.t);
  alpha.on(/^date \+%s; setsid nohup (qmrestore \S+ \d+|pct restore \d+ \S+)/, (command) => {
    const ct = / pct restore (\d+) /.exec(command);
    const vmid = ct?.[1] ?? / qmrestore \S+ (\d+)/.exec(command)?.[1] ?? '?';
    return launch({
      type: ct ? 'vzrestore' : 'qmrestore', vmid,
      upid: ct ? CT_RESTORE_UPID.replace(':131:', `:${vmid}:`) : RESTORE_UPID.replace(':121:', `:${vmid}:`),
      pid: ct ? RESTORE_PID + 1 : RESTORE_PID, pstart: ct ? 9999002 : 9999001, starttime: LAUNCH_EPOCH,
      log: restoreLog, firstRead: 9, exitstatus: 'OK',
    }, command, 'restore');
  });
  alpha.on(new RegExp(`^kill -0 (${SAFETY_PID}|${RESTORE_PID}|${RESTORE_PID + 1}) `), { stdout: 'alive\n' });
  const taskOf = (command: string) => {
    const upid = /\/tasks\/(UPID:[^/]+)\//.exec(command)?.[1];
    return tasks.find((t) => t.upid === upid);
  };
  const noSuchTask = (command: string) => fail(`unable to open file '/var/log/pve/tasks/${/\/tasks\/(UPID:[^/]+)\//.exec(command)?.[1] ?? '?'}' - No such file or directory`);
  alpha.on(/^pvesh get \/nodes\/alpha\/tasks\/UPID:[^/]+\/log --start (\d+) /, (command) => {
    const task = taskOf(command);
    if (!task) return noSuchTask(command);
    const start = Number(/--start (\d+)/.exec(command)?.[1]);
    // First look: the task is half-way; then the rest.
    const upto = task.logReads++ === 0 ? task.firstRead : task.log.length;
    return json(taskLog(task.log).slice(start, upto));
  });
  alpha.on(/^pvesh get \/nodes\/alpha\/tasks\/UPID:[^/]+\/status /, (command) => {
    const task = taskOf(command);
    if (!task) return noSuchTask(command);
    const mine = { upid: task.upid, id: task.vmid, type: task.type, pid: task.pid, pstart: task.pstart, starttime: task.starttime };
    if (task.statusReads++ === 0) return json({ ...fixtureJson<Record<string, unknown>>('task-status-running.json'), ...mine });
    task.ended = true;
    return json({ ...fixtureJson<Record<string, unknown>>('task-status-ok.json'), ...mine, exitstatus: task.exitstatus });
  });
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

const DUMP_DIR = '/mnt/pve/backups/dump';
const startLine = (vmid: string, storage: string) => `INFO: starting new backup job: vzdump ${vmid} --storage ${storage} --mode snapshot --compress zstd --remove 0 --protected 1 --notes-template '${SAFETY_NOTES}'`;

/**
 * The safety point's vzdump task log (reference §10: the lines vzdump prints, in its order, for a
 * guest the plan stopped first: `status = stopped`, `backup mode: stop`), `TASK OK` last. On a PBS
 * storage the archive line names the snapshot relative to the datastore.
 */
export function vzdumpLog(type: 'qemu' | 'lxc', storage = 'backups'): string[] {
  const vmid = type === 'qemu' ? '121' : '131';
  const pbs = storage === 'pbs';
  const archive = pbs
    ? `INFO: creating Proxmox Backup Server archive '${type === 'qemu' ? PBS_SAFETY_SNAPSHOT : PBS_SAFETY_SNAPSHOT.replace('vm/121', 'ct/131')}'`
    : `INFO: creating vzdump archive '${DUMP_DIR}/${type === 'qemu' ? SAFETY_FILE : CT_SAFETY_FILE}'`;
  const guest = type === 'qemu'
    ? ['INFO: VM Name: gitea', "INFO: include disk 'scsi0' 'local-lvm:vm-121-disk-0' 40G"]
    : ['INFO: CT Name: postgres', "INFO: including mount point rootfs ('/') in backup"];
  const data = type === 'qemu'
    ? [
        "INFO: started backup task '3fef2565-ac97-4258-a3a4-c8d2cfd2e8cd'",
        'INFO:  50% (20.0 GiB of 40.0 GiB) in 4s, read: 5.0 GiB/s, write: 0 B/s',
        'INFO: 100% (40.0 GiB of 40.0 GiB) in 8s, read: 5.0 GiB/s, write: 120.3 MiB/s',
        'INFO: backup is sparse: 37.89 GiB (94%) total zero data',
        'INFO: transferred 40.00 GiB in 8 seconds (5.0 GiB/s)',
      ]
    : ['INFO: Total bytes written: 564357120 (539MiB, 93MiB/s)'];
  return [
    startLine(vmid, storage),
    `INFO: Starting Backup of VM ${vmid} (${type})`,
    'INFO: Backup started at 2026-11-21 18:09:48',
    'INFO: status = stopped',
    guest[0]!,
    ...(type === 'qemu' ? [guest[1]!] : []),
    'INFO: backup mode: stop',
    'INFO: ionice priority: 7',
    ...(type === 'lxc' ? [guest[1]!] : []),
    archive,
    ...data,
    ...(pbs ? [] : [type === 'qemu' ? 'INFO: archive file size: 2.11GB' : 'INFO: archive file size: 161MB']),
    'INFO: adding notes to backup',
    `INFO: Finished Backup of VM ${vmid} (00:00:09)`,
    'INFO: Backup finished at 2026-11-21 18:09:57',
    'INFO: Backup job finished successfully',
    'TASK OK',
  ];
}

/** A vzdump task of 121 that fails before writing its archive (reference §10: `job errors`). */
export function vzdumpFailedLog(storage = 'backups'): string[] {
  return [
    startLine('121', storage),
    'INFO: Starting Backup of VM 121 (qemu)',
    'INFO: Backup started at 2026-11-21 18:09:48',
    'INFO: status = stopped',
    `ERROR: Backup of VM 121 failed - unable to create temporary directory '${DUMP_DIR}/vzdump-qemu-121-2026_11_21-18_09_48.tmp' at /usr/share/perl5/PVE/VZDump.pm line 1018.`,
    'INFO: Failed at 2026-11-21 18:09:48',
    'INFO: Backup job finished with errors',
    'TASK ERROR: job errors',
  ];
}

/** True for commands that only read (what planning may send). */
export function isReadOnly(command: string): boolean {
  return /^pvesh get /.test(command) || /^pvesm path /.test(command);
}
