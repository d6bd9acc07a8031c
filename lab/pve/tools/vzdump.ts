/**
 * `vzdump` (reference §10): writes a NEW real archive of the guest as it is now (config from the
 * model, scaled disk image), its `.log`, optional `.notes` and `.protected`, and updates the
 * storage accounting by the archive's logical size; then prunes the guest's older backups on that
 * storage by the retention (`--prune-backups`, else the storage's), unless `--remove 0` (prune.ts).
 *
 * Storage full: real vzdump does not pre-check space; the write fails part-way. We do the same:
 * when the logical size exceeds the storage's `avail`, the task writes some progress, removes the
 * partial `.dat` and fails with `vma_queue_write: write error - No space left on device` (qemu) or
 * `tar: write error: No space left on device` (lxc), ending `TASK ERROR: job errors` (exit 255).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Ctx, ToolError, paramError, parseArgs, simSleep } from '../cli';
import { type GuestState, type StorageState, GiB, defaultDataFraction, disksOf, findStorage, guestName, mutateState, readState, storageUsage } from '../model';
import { kindWord } from '../guests';
import { type TaskContext, runTaskCli } from '../tasks';
import { parseCompressOption } from '../compress';
import { backupsOf, buildArchive, dumpDir, logNameOf, relToState } from '../archive';
import { type Retention, parseRetention, pruneMarks, prunes, removeArchive, retentionString } from '../prune';
import { humanIec, localDateTime, vzdumpSize } from '../format';
import { writeFileAtomic } from '../store';
import type { Compression } from '../spec';

const USAGE = 'vzdump {<vmid>} [OPTIONS]';

interface VzdumpParams {
  vmids: number[];
  storage: string;
  mode: string;
  compression: Compression;
  notesTemplate?: string;
  protected: boolean;
  /** `--remove 0` turns pruning off (default 1). */
  remove: boolean;
  /** `--prune-backups`; otherwise the storage's retention. */
  pruneBackups?: Retention;
  commandLine: string;
}

/** Expands `{{guestname}}`, `{{node}}`, `{{vmid}}`, `{{cluster}}` and the `\n`, `\\` escapes. */
export function expandNotes(tpl: string, vars: Record<string, string>): string {
  return tpl.replace(/\{\{([^}]*)\}\}|\\(n|\\)/g, (_m, v: string | undefined, esc: string | undefined) => (v !== undefined ? (vars[v] ?? '') : esc === 'n' ? '\n' : '\\'));
}

function checkNotesTemplate(tpl: string): void {
  const re = /\{\{([^}]*)\}\}/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(tpl))) {
    if (!['cluster', 'guestname', 'node', 'vmid'].includes(m[1]!)) throw paramError({ 'notes-template': `found unknown: variable '${m[1]}' at char ${m.index}` }, USAGE);
  }
}

const quote = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);

export async function vzdump(ctx: Ctx, args: string[]): Promise<number> {
  const p = parseArgs(args, ['storage', 'mode', 'compress', 'notes-template', 'dumpdir', 'bwlimit', 'zstd', 'ionice', 'lockwait', 'mailto', 'mailnotification', 'pool', 'exclude', 'prune-backups', 'tmpdir'], ['protected', 'remove', 'quiet', 'all', 'stdout', 'stop'], USAGE);
  if (p.positional.length === 0 && p.opts.all !== '1') throw paramError({ vmid: 'property is missing and it is not optional' }, USAGE);
  const vmids = p.positional.map((v) => {
    if (!/^[1-9][0-9]{2,8}$/.test(v)) throw paramError({ vmid: `value '${v}' does not look like a valid VM ID` }, USAGE);
    return Number(v);
  });
  const compression = parseCompressOption(p.opts.compress);
  if (!compression) throw paramError({ compress: `value '${p.opts.compress}' does not have a value in the enumeration '0, 1, gzip, lzo, zstd'` }, USAGE);
  const mode = p.opts.mode ?? 'snapshot';
  if (!['snapshot', 'suspend', 'stop'].includes(mode)) throw paramError({ mode: `value '${mode}' does not have a value in the enumeration 'snapshot, suspend, stop'` }, USAGE);
  if (p.opts['notes-template'] !== undefined) {
    if (!p.opts.storage) throw paramError({ 'notes-template': "missing property - 'storage' is required for 'notes-template'" }, USAGE);
    checkNotesTemplate(p.opts['notes-template']);
  }
  let pruneBackups: Retention | undefined;
  if (p.opts['prune-backups'] !== undefined) {
    try {
      pruneBackups = parseRetention(p.opts['prune-backups']);
    } catch (e) {
      throw paramError({ 'prune-backups': (e as Error).message }, USAGE);
    }
  }
  const storageId = p.opts.storage ?? 'local';
  const state = readState(ctx.stateDir);
  const st = findStorage(state, ctx.node, storageId);
  if (!st) throw new ToolError(`storage '${storageId}' does not exist`);
  if (!st.content.includes('backup')) throw new ToolError(`storage '${storageId}' does not support backups`);
  const all = p.opts.all === '1' ? Object.values(state.guests).filter((g) => g.node === ctx.node).map((g) => g.vmid).sort((a, b) => a - b) : vmids;
  const shown = [...args].map(quote).join(' ');
  const params: VzdumpParams = { vmids: all, storage: storageId, mode, compression, protected: p.opts.protected === '1', remove: p.opts.remove !== '0', ...(pruneBackups ? { pruneBackups } : {}), commandLine: `vzdump ${shown}`, ...(p.opts['notes-template'] !== undefined ? { notesTemplate: p.opts['notes-template'] } : {}) };
  return runTaskCli(ctx, { kind: 'vzdump', node: ctx.node, stateDir: ctx.stateDir, type: 'vzdump', id: all.length === 1 ? String(all[0]) : '', params: params as unknown as Record<string, unknown> });
}

/** Worker: back up each guest in turn. */
export async function vzdumpWorker(t: TaskContext): Promise<void> {
  const p = t.job.params as unknown as VzdumpParams;
  t.log(`INFO: starting new backup job: ${p.commandLine}`);
  let errors = 0;
  for (const vmid of p.vmids) {
    const ok = await backupOne(t, p, vmid);
    if (!ok) errors++;
  }
  if (errors > 0) {
    t.log('INFO: Backup job finished with errors');
    throw new Error('job errors');
  }
  t.log('INFO: Backup job finished successfully');
}

async function backupOne(t: TaskContext, p: VzdumpParams, vmid: number): Promise<boolean> {
  const start = Date.now();
  const guestLog: string[] = [];
  const info = (msg: string): void => {
    t.log(`INFO: ${msg}`);
    guestLog.push(`${localDateTime(Date.now())} INFO: ${msg}`);
  };
  let g: GuestState | undefined;
  let datFile: string | undefined;
  const fail = (reason: string): false => {
    t.log(`ERROR: Backup of VM ${vmid} failed - ${reason}`);
    t.log(`INFO: Failed at ${localDateTime(Date.now())}`);
    if (datFile) fs.rmSync(datFile, { force: true });
    return false;
  };
  // Lock the guest for the backup (a locked guest is refused, like vzdump does).
  try {
    g = mutateState(t.stateDir, (s) => {
      const x = s.guests[String(vmid)];
      if (!x || x.node !== t.node) throw new Error(`unable to find VM '${vmid}'`);
      if (x.config.lock) throw new Error(`${kindWord(x.type)} is locked (${x.config.lock})`);
      x.config.lock = 'backup';
      return JSON.parse(JSON.stringify(x)) as GuestState;
    });
  } catch (e) {
    return fail((e as Error).message);
  }
  const guest = g;
  try {
    const state = readState(t.stateDir);
    const st = findStorage(state, t.node, p.storage)!;
    const disks = disksOf(guest.config);
    const diskBytes = disks.reduce((s, d) => s + d.sizeBytes, 0);
    info(`Starting Backup of VM ${vmid} (${guest.type})`);
    info(`Backup started at ${localDateTime(start)}`);
    info(`status = ${guest.status}`);
    const mode = guest.status === 'running' ? p.mode : 'stop';
    if (guest.type === 'qemu') {
      info(`VM Name: ${guestName(guest)}`);
      for (const d of disks) info(`include disk '${d.key}' '${d.storage}:${d.volname}' ${Math.round(d.sizeBytes / GiB)}G`);
    } else {
      info(`CT Name: ${guestName(guest)}`);
      info("including mount point rootfs ('/') in backup");
    }
    info(`backup mode: ${mode}`);
    info('ionice priority: 7');
    const built = await buildArchive({
      type: guest.type,
      vmid,
      config: guest.config,
      timeMs: start,
      compression: p.compression,
      dataFraction: state.dataFraction[String(vmid)] ?? defaultDataFraction(vmid),
      storageType: (id) => findStorage(state, t.node, id)?.type,
      disks,
    });
    const dir = dumpDir(st);
    fs.mkdirSync(dir, { recursive: true });
    const finalPath = path.join(dir, built.filename);
    datFile = finalPath.replace(/\.(zst|gz|lzo)$/, '') + '.dat';
    if (guest.type === 'lxc' && mode === 'snapshot') info("create storage snapshot 'vzdump'");
    info(`creating vzdump archive '${finalPath}'`);
    const agent = guest.type === 'qemu' && guest.status === 'running' && guest.config.agent !== undefined && !guest.config.agent.startsWith('0');
    if (agent) {
      info("issuing guest-agent 'fs-freeze' command");
      info("issuing guest-agent 'fs-thaw' command");
    }
    if (guest.type === 'qemu') info(`started backup task '${cryptoUuid()}'`);
    if (guest.type === 'qemu' && guest.status === 'running') info('resuming VM again');
    const avail = storageUsage(t.stateDir, state, t.node, st).avail;
    const nominalMs = Math.min(25000, Math.max(6000, 3000 + (diskBytes / (3 * GiB)) * 1000));
    const full = built.logicalSize > avail;
    const steps = 5;
    for (let i = 1; i <= steps; i++) {
      await simSleep(nominalMs / steps);
      const pct = Math.round((i * 100) / steps);
      if (full && (pct / 100) * built.logicalSize > avail) {
        fs.writeFileSync(datFile, built.data.subarray(0, Math.floor(built.data.length / 2)));
        return fail(guest.type === 'qemu' ? 'vma_queue_write: write error - No space left on device' : 'tar: write error: No space left on device');
      }
      if (i === 3) t.failPoint();
      if (guest.type === 'qemu') {
        const secs = Math.round((nominalMs * i) / steps / 1000);
        const done = (diskBytes * pct) / 100;
        info(`${String(pct).padStart(3)}% (${humanIec(done)} of ${humanIec(diskBytes)}) in ${secs}s, read: ${humanIec(done / Math.max(1, secs))}/s, write: ${humanIec((built.logicalSize * pct) / 100 / Math.max(1, secs))}/s`);
      }
    }
    fs.writeFileSync(datFile, built.data);
    fs.renameSync(datFile, finalPath);
    datFile = undefined;
    mutateState(t.stateDir, (s) => {
      s.archives[relToState(t.stateDir, finalPath)] = { size: built.logicalSize };
    });
    if (guest.type === 'qemu') {
      const zero = Math.round(diskBytes * (1 - (state.dataFraction[String(vmid)] ?? defaultDataFraction(vmid))));
      info(`backup is sparse: ${humanIec(zero)} (${Math.round((zero * 100) / Math.max(1, diskBytes))}%) total zero data`);
      info(`transferred ${humanIec(diskBytes)} in ${Math.round(nominalMs / 1000)} seconds (${humanIec(diskBytes / Math.max(1, nominalMs / 1000))}/s)`);
    } else {
      info(`Total bytes written: ${Math.round(built.logicalSize / 0.45)} (${Math.round(built.logicalSize / 0.45 / 1024 / 1024)}MiB, ${Math.round(built.logicalSize / 0.45 / 1024 / 1024 / Math.max(1, nominalMs / 1000))}MiB/s)`);
      if (mode === 'snapshot') info("cleanup temporary 'vzdump' snapshot");
    }
    info(`archive file size: ${vzdumpSize(built.logicalSize)}`);
    if (p.notesTemplate !== undefined) {
      info('adding notes to backup');
      fs.writeFileSync(`${finalPath}.notes`, expandNotes(p.notesTemplate, { guestname: guestName(guest), node: t.node, vmid: String(vmid), cluster: state.clusterName }));
    }
    if (p.protected) {
      info('marking backup as protected');
      fs.writeFileSync(`${finalPath}.protected`, '');
    }
    if (p.remove) pruneAfterBackup(t, p, guest, st, info);
    const secs = Math.round((Date.now() - start) / 1000);
    const hms = `${String(Math.floor(secs / 3600)).padStart(2, '0')}:${String(Math.floor(secs / 60) % 60).padStart(2, '0')}:${String(secs % 60).padStart(2, '0')}`;
    info(`Finished Backup of VM ${vmid} (${hms})`);
    info(`Backup finished at ${localDateTime(Date.now())}`);
    writeFileAtomic(path.join(dir, logNameOf(built.filename)), guestLog.join('\n') + '\n');
    return true;
  } catch (e) {
    return fail((e as Error).message);
  } finally {
    mutateState(t.stateDir, (s) => {
      const x = s.guests[String(vmid)];
      if (x && x.config.lock === 'backup') delete x.config.lock;
    });
  }
}

/**
 * vzdump's pruning after a successful backup (reference §10): the guest's backups on the target
 * storage, by `--prune-backups` or else the storage's retention, protected ones left out.
 */
function pruneAfterBackup(t: TaskContext, p: VzdumpParams, guest: GuestState, storage: StorageState, info: (msg: string) => void): void {
  const keep = p.pruneBackups ?? storage.pruneBackups;
  if (!prunes(keep)) return;
  info(`prune older backups with retention: ${retentionString(keep)}`);
  const group = backupsOf(t.stateDir, readState(t.stateDir), storage).filter((b) => b.vmid === guest.vmid && b.subtype === guest.type);
  const removed = pruneMarks(group, keep).filter((x) => x.mark === 'remove');
  for (const { entry } of removed) removeArchive(t.stateDir, entry);
  info(`pruned ${removed.length} backup(s)${removed.length > 0 ? ' not covered by keep-retention policy' : ''}`);
}

function cryptoUuid(): string {
  return (globalThis.crypto as { randomUUID(): string }).randomUUID();
}
