/**
 * Verify backups (the operator's user story "verify backup integrity"). Read-only on the nodes:
 * every archive in scope is located (`pvesm path`), stat'ed and hashed (`sha256sum`); a new or
 * changed archive is checked with the compression layer's own test and its structure read through
 * `vma verify -` / `tar -t` (an unchanged one that passed is skipped, unless `--reread`/`--full`);
 * PBS snapshots report their verification state; the age of the newest archive that passed is
 * compared with the RPO target; backup jobs and the coverage of every declared guest are checked;
 * every Terraform state version is read and validated; `--full` also probes each running guest.
 * Checks run in parallel across nodes with a bound per node, report progress and stop on abort.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { CancelledError, LifeboatError } from '../errors';
import { declaredGuests } from '../config/discovery';
import type { EnvironmentConfig } from '../model/environment';
import type { LogSink, NetworkProbe, NodeShell, StateStore } from '../ports';
import { guestRpoHours, matchGuests, newestBackup } from '../inventory/backups';
import type { Backup, BackupJob, Guest, Inventory } from '../inventory/model';
import { msg, type MessageArg } from '../procedure/message';
import { commandLine } from '../proxmox/shell';
import { volumePath } from '../proxmox/commands';
import { parseState } from '../state/model';
import { formatTime } from '../restore/guestRestore';
import { checkArchivePath, integrityLine, parseStatAndHash, statAndHashLine } from './commands';
import { archiveKey, stateKey, type VerifyManifest } from './manifest';
import { worst, type ArchiveCheck, type Finding, type StateVersionCheck, type VerifyResult } from './model';

export interface VerifyRequest {
  /** Read every archive again, even unchanged ones that passed, and probe running guests. */
  readonly full: boolean;
  /**
   * Read every archive again, and take the new checksum of a changed archive that passes as the
   * reference (the operator's deliberate re-verification).
   */
  readonly reread: boolean;
  /** Only this environment's guests (and its state). */
  readonly environment?: string;
  /** Only this guest. */
  readonly vmid?: number;
}

/** A state store, why there is none (`unavailable`), or undefined: no S3 credentials. */
export type StateStoreLookup = StateStore | { readonly unavailable: MessageArg } | undefined;

export interface VerifyDeps {
  readonly environments: readonly EnvironmentConfig[];
  readonly inventory: Inventory;
  readonly shell: (node: string) => NodeShell;
  readonly probe: NetworkProbe;
  readonly log: LogSink;
  /** The manifest as read; updated in place with what this run verified. */
  readonly manifest: VerifyManifest;
  /**
   * The state store of an environment with an s3 backend: undefined when there are no S3
   * credentials, `{ unavailable }` when it could not be made (why). Either is a warning finding.
   */
  readonly stateStore?: (env: EnvironmentConfig) => StateStoreLookup;
  /** RPO when the backup block's schedule says nothing usable (setting `lifeboat.backup.rpoHours`). */
  readonly rpoFallbackHours: number;
  /** Concurrent checks per node (default 2). */
  readonly perNode?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: { done: number; total: number; message: string }) => void;
  readonly now?: () => Date;
}

/**
 * Verdicts of an archive a restore cannot rely on. A PBS snapshot never verified is warned about on
 * its own but not held to be bad: only the PBS server's verify job can say.
 */
const FAILED_VERDICTS: ReadonlySet<ArchiveCheck['verdict']> = new Set(['corrupt', 'missing', 'empty', 'unreadable', 'pbs-failed']);

interface GuestRef {
  readonly env: EnvironmentConfig | undefined;
  readonly name: string | undefined;
  readonly declared: EnvironmentConfig['guests'][number] | undefined;
}

export async function verifyBackups(request: VerifyRequest, deps: VerifyDeps): Promise<VerifyResult> {
  const now = deps.now ?? (() => new Date());
  const started = now();
  const findings: Finding[] = [];
  const inv = deps.inventory;
  const envs = deps.environments.filter((e) => !request.environment || e.name === request.environment);
  if (request.environment && envs.length === 0) {
    throw LifeboatError.saying('invalidValue', msg('no environment {0}', request.environment), { field: 'environment', value: request.environment, expected: deps.environments.map((e) => e.name).join(', ') || 'an environment of the repository' });
  }

  // ---- which guests and archives are in scope ----------------------------------------------------
  const byVmid = new Map<number, GuestRef>();
  const matchedPerEnv = envs.map((env) => ({ env, matched: matchGuests(declaredGuests(env), inv) }));
  for (const { env, matched } of matchedPerEnv) {
    for (const m of matched) {
      const vmid = m.vmid;
      if (vmid !== undefined && !byVmid.has(vmid)) byVmid.set(vmid, { env, name: m.declared?.name, declared: m.declared });
    }
  }
  const scoped = (vmid: number) => (request.vmid === undefined || vmid === request.vmid) && (!request.environment || byVmid.has(vmid));
  const refOf = (vmid: number): GuestRef => byVmid.get(vmid) ?? { env: undefined, name: inv.guests.find((g) => g.vmid === vmid)?.name, declared: undefined };
  const where = (vmid: number) => {
    const ref = refOf(vmid);
    return { environment: ref.env?.name, guest: ref.name, vmid, file: ref.declared ? ref.env?.tfvarsPath : undefined, range: ref.declared?.range };
  };

  // ---- nodes and storages that could not be read ----------------------------------------------------
  for (const n of inv.nodes) {
    if (!n.reachable) {
      findings.push({ severity: 'error', code: 'node-unreachable', node: n.node, message: msg('Node {0} could not be read ({1}): its backups were not verified', n.node, n.error?.text ?? n.error?.message ?? '') });
    }
    for (const u of n.unreadableStorages) {
      findings.push({ severity: 'error', code: 'storage-unreadable', node: n.node, message: msg('Storage {0} on {1} could not be listed ({2}): its backups were not verified', u.storage, n.node, u.text ?? u.message) });
    }
  }

  // ---- archives --------------------------------------------------------------------------------------
  const archives = inv.backups.filter((b) => scoped(b.vmid));
  const checks: ArchiveCheck[] = [];
  const total = archives.length;
  let done = 0;
  let cancelled = false;
  const perNode = Math.max(1, deps.perNode ?? 2);
  const queues = new Map<string, Backup[]>();
  for (const b of archives) queues.set(b.node, [...(queues.get(b.node) ?? []), b]);
  deps.onProgress?.({ done, total, message: `0/${total}` });

  const worker = async (node: string, queue: Backup[]) => {
    for (;;) {
      if (deps.signal?.aborted) {
        cancelled = true;
        return;
      }
      const b = queue.shift();
      if (!b) return;
      try {
        const check = await checkArchive(b, request, deps, inv, started, refOf(b.vmid));
        checks.push(check);
        findings.push(...archiveFindings(check, where(b.vmid)));
      } catch (err) {
        if (CancelledError.is(err)) {
          cancelled = true;
          return;
        }
        throw err;
      }
      done++;
      deps.onProgress?.({ done, total, message: `${node}: ${b.volid}` });
    }
  };
  await Promise.all([...queues].flatMap(([node, queue]) => Array.from({ length: Math.min(perNode, queue.length) }, () => worker(node, queue))));

  // ---- coverage: jobs, declared guests, ages ------------------------------------------------------
  const checkOf = new Map(checks.map((c) => [`${c.node}|${c.volid}`, c]));
  /** Whether this run found the archive good; undefined when it was not checked (a cancelled run). */
  const passed = (b: Backup): boolean | undefined => {
    const c = checkOf.get(`${b.node}|${b.volid}`);
    return c === undefined ? undefined : !FAILED_VERDICTS.has(c.verdict) && c.checksum !== 'changed';
  };
  const fallback = deps.rpoFallbackHours;
  const reachableNodes = inv.nodes.some((n) => n.reachable);
  if (reachableNodes && inv.jobs.length === 0 && request.vmid === undefined) {
    findings.push({ severity: 'error', code: 'no-jobs', message: msg('No backup job is defined on the cluster: nothing is backed up automatically') });
  }
  for (const job of inv.jobs) {
    if (job.enabled) continue;
    if (request.vmid !== undefined && !covers(job, request.vmid, undefined)) continue;
    const env = envs.find((e) => job.id === `backup-${e.name}`) ?? envs.find((e) => declaredGuests(e).some((d) => { const v = inv.guests.find((g) => g.name === d.name)?.vmid; return v !== undefined && covers(job, v, undefined); }));
    if (request.environment && !env) continue;
    findings.push({ severity: 'warning', code: 'job-disabled', environment: env?.name, file: env?.backup ? env.tfvarsPath : undefined, range: env?.backup?.range, message: msg('Backup job {0} is disabled ({1}): the guests it covers are not backed up', job.id, job.schedule ?? '?') });
  }
  for (const env of envs) {
    if (request.vmid !== undefined && byVmid.get(request.vmid)?.env !== env) continue;
    if (env.backup?.enabled === false) {
      findings.push({ severity: 'warning', code: 'backup-disabled', environment: env.name, file: env.tfvarsPath, range: env.backup.range, message: msg('Backups are disabled in the backup block of {0}', env.name) });
    }
  }

  for (const { env, matched } of matchedPerEnv) {
    for (const m of matched) {
      const d = m.declared;
      if (!d) continue;
      const vmid = m.vmid;
      if (request.vmid !== undefined && vmid !== request.vmid) continue;
      // The same RPO as the explorer and the lenses: the backup block's schedule, else the guest's job.
      const rpo = guestRpoHours(env.backup?.schedule, inv.jobs, vmid, m.guest?.node, fallback);
      const at = { environment: env.name, guest: d.name, vmid, node: m.guest?.node, file: env.tfvarsPath, range: d.range };
      // A Lifeboat safety point (the state a restore replaced) does not make a guest's backups recent.
      const newest = newestBackup(m.backups);
      if (!m.guest) {
        findings.push(newest
          ? { ...at, severity: 'warning', code: 'guest-missing', message: msg('{0} is declared but no node has it; its newest backup is from {1}', d.name, formatTime(newest.ctime)) }
          : { ...at, severity: 'error', code: 'never-backed-up', message: msg('{0} is declared but no node has it and no backup of it exists', d.name) });
        continue;
      }
      const g = m.guest;
      if (!newest) {
        findings.push({ ...at, severity: 'error', code: 'never-backed-up', message: msg('{0} ({1}) has never been backed up: no archive on any storage', d.name, g.vmid) });
      } else {
        // The age that matters is the one of the backup a restore could use: the newest that passed
        // (an archive this run did not get to, when cancelled, is not held against it).
        const lastGood = newestBackup(m.backups.filter((b) => passed(b) !== false));
        const ageH = lastGood ? (started.getTime() - lastGood.ctime * 1000) / 3600_000 : 0;
        if (!lastGood) {
          findings.push({ ...at, severity: 'error', code: 'no-good-backup', volid: newest.volid, message: msg('No backup of {0} ({1}) passed its check ({2} archive(s)): none can be trusted for a restore', d.name, g.vmid, m.backups.length) });
        } else if (lastGood !== newest) {
          findings.push(ageH > rpo
            ? { ...at, severity: 'warning', code: 'stale', volid: lastGood.volid, message: msg('The newest backup of {0} failed its check; the last good backup is {1} h old, older than the {2} h recovery point objective', d.name, Math.round(ageH), rpo) }
            : { ...at, severity: 'warning', code: 'newest-failed', volid: lastGood.volid, message: msg('The newest backup of {0} failed its check; the last good backup is {1} h old ({2})', d.name, Math.round(ageH), formatTime(lastGood.ctime)) });
        } else if (ageH > rpo) {
          findings.push({ ...at, severity: 'warning', code: 'stale', volid: newest.volid, message: msg('The newest backup of {0} is {1} h old, older than the {2} h recovery point objective', d.name, Math.round(ageH), rpo) });
        }
      }
      const enabledJobs = inv.jobs.filter((j) => j.enabled && covers(j, g.vmid, g.node));
      if (reachableNodes && enabledJobs.length === 0) {
        const disabled = inv.jobs.filter((j) => !j.enabled && covers(j, g.vmid, g.node));
        findings.push({ ...at, severity: 'warning', code: 'not-covered', message: disabled.length
          ? msg('{0} ({1}) is only in the disabled backup job {2}', d.name, g.vmid, disabled.map((j) => j.id).join(', '))
          : msg('{0} ({1}) is not in any enabled backup job', d.name, g.vmid) });
      }
      const archiveProblems = findings.some((f) => f.vmid === g.vmid && f.severity !== 'ok');
      if (newest && !archiveProblems) {
        findings.push({ ...at, severity: 'ok', code: 'guest-ok', message: msg('{0} ({1}): {2} backup(s), newest {3}', d.name, g.vmid, m.backups.length, formatTime(newest.ctime)) });
      }
    }
  }

  // ---- reachability (--full) --------------------------------------------------------------------
  if (request.full && !deps.signal?.aborted) {
    for (const { env, matched } of matchedPerEnv) {
      for (const m of matched) {
        if (!m.declared || !m.guest || m.guest.status !== 'running') continue;
        if (request.vmid !== undefined && m.guest.vmid !== request.vmid) continue;
        const at = { environment: env.name, guest: m.declared.name, vmid: m.guest.vmid, node: m.guest.node, file: env.tfvarsPath, range: m.declared.range };
        if (!m.declared.ip) continue;
        const address = m.declared.ip.replace(/\/\d+$/, '');
        const ok = await deps.probe.tcp(address, 22, 3000, deps.signal).catch(() => false);
        findings.push(ok
          ? { ...at, severity: 'ok', code: 'reachable', message: msg('{0} answers on {1}:22', m.declared.name, address) }
          : { ...at, severity: 'warning', code: 'unreachable', message: msg('{0} is running but does not answer on {1}:22', m.declared.name, address) });
      }
    }
  }

  // ---- state versions ------------------------------------------------------------------------------
  const states: StateVersionCheck[] = [];
  if (request.vmid === undefined && !deps.signal?.aborted) {
    for (const env of envs) {
      try {
        states.push(...await checkStates(env, deps, request, findings));
      } catch (err) {
        if (CancelledError.is(err)) {
          cancelled = true;
          break;
        }
        throw err;
      }
    }
  }
  if (deps.signal?.aborted) cancelled = true;

  const finished = now();
  const counts = {
    ok: findings.filter((f) => f.severity === 'ok').length,
    warning: findings.filter((f) => f.severity === 'warning').length,
    error: findings.filter((f) => f.severity === 'error').length,
  };
  const w = worst(findings);
  const exitCode = w === 'error' ? 2 : w === 'warning' || cancelled ? 1 : 0;
  const order = { error: 0, warning: 1, ok: 2 } as const;
  return {
    full: request.full,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - started.getTime(),
    cancelled,
    findings: findings.map((f, i) => ({ f, i })).sort((a, b) => order[a.f.severity] - order[b.f.severity] || a.i - b.i).map((x) => x.f),
    archives: checks.sort((a, b) => a.vmid - b.vmid || b.ctime - a.ctime),
    states,
    counts,
    exitCode,
  };
}

/** A job covers a guest when it names it (or all, minus exclusions) and runs on its node. */
export function covers(job: BackupJob, vmid: number, node: string | undefined): boolean {
  const listed = job.vmids === 'all' ? !job.exclude.includes(vmid) : job.vmids.includes(vmid);
  return listed && (!job.node || node === undefined || job.node === node);
}

function isShared(inv: Inventory, b: Backup): boolean {
  return inv.nodes.some((n) => n.storages.some((s) => s.id === b.storage && s.shared));
}

async function checkArchive(b: Backup, request: VerifyRequest, deps: VerifyDeps, inv: Inventory, started: Date, ref: GuestRef): Promise<ArchiveCheck> {
  const t0 = Date.now();
  const base = {
    volid: b.volid, node: b.node, storage: b.storage, vmid: b.vmid, guest: ref.name ?? guestName(inv.guests, b.vmid), environment: ref.env?.name,
    format: b.format, sizeBytes: b.sizeBytes, ctime: b.ctime, ageHours: Math.round(((started.getTime() - b.ctime * 1000) / 3600_000) * 10) / 10,
    protected: b.protected, notes: b.notes,
  };
  const commands: string[] = [];
  const result = (r: Pick<ArchiveCheck, 'verdict' | 'checksum' | 'sha256' | 'detail'> & Partial<Pick<ArchiveCheck, 'referenceVerifiedAt'>>): ArchiveCheck => ({ ...base, ...r, commands, durationMs: Date.now() - t0 });
  if (b.pbs) {
    return result({ verdict: b.verification === 'ok' ? 'pbs-ok' : b.verification === 'failed' ? 'pbs-failed' : 'pbs-unverified', checksum: 'none', sha256: undefined, detail: undefined });
  }
  const shell = deps.shell(b.node);
  const exec = async (line: string) => {
    commands.push(line);
    return shell.exec(line, { signal: deps.signal });
  };
  let archivePath: string;
  try {
    const r = await exec(commandLine(volumePath(b.volid)));
    if (r.code !== 0) return result({ verdict: 'missing', checksum: 'none', sha256: undefined, detail: (r.stderr || r.stdout).trim().slice(0, 300) });
    archivePath = checkArchivePath(r.stdout);
  } catch (err) {
    if (CancelledError.is(err)) throw err;
    return result({ verdict: 'unreadable', checksum: 'none', sha256: undefined, detail: err instanceof Error ? err.message : String(err) });
  }
  try {
    const r = await exec(statAndHashLine(archivePath));
    const parsed = r.code === 0 ? parseStatAndHash(r.stdout) : undefined;
    if (!parsed) {
      const text = (r.stderr || r.stdout).trim();
      return result({ verdict: /No such file/i.test(text) ? 'missing' : 'unreadable', checksum: 'none', sha256: undefined, detail: text.slice(0, 300) });
    }
    if (parsed.size === 0) return result({ verdict: 'empty', checksum: 'none', sha256: parsed.sha256, detail: undefined });
    const key = archiveKey(b.volid, b.node, isShared(inv, b));
    const previous = deps.manifest.archives[key];
    const changed = previous !== undefined && previous.sha256 !== parsed.sha256;
    // An unchanged archive whose structure was read and passed is not read again unless asked.
    const skip = previous !== undefined && !changed && previous.verdict === 'ok' && previous.full && !request.reread && !request.full;
    if (skip) {
      return result({ verdict: 'unchanged', checksum: 'unchanged', sha256: parsed.sha256, detail: `verified ${previous.verifiedAt}` });
    }
    const ir = await exec(integrityLine(b.format, archivePath));
    const ok = ir.code === 0;
    const failure = ok ? undefined : `exit ${ir.code ?? 'none'}: ${lastWords(ir.stderr || ir.stdout)}`;
    const verifiedAt = (deps.now ?? (() => new Date()))().toISOString();
    const entry = { volid: b.volid, node: b.node, size: parsed.size, mtime: parsed.mtime, ctime: b.ctime, sha256: parsed.sha256, verdict: ok ? 'ok' as const : 'corrupt' as const, full: true, verifiedAt };
    if (!changed) {
      deps.manifest.archives[key] = entry;
      return result({ verdict: ok ? 'ok' : 'corrupt', checksum: previous ? 'unchanged' : 'new', sha256: parsed.sha256, detail: failure });
    }
    // Same name, another checksum. The reference is kept — and the change reported on every run —
    // until the operator re-reads on purpose and the archive passes: a vzdump archive is never
    // rewritten in place, so a change is bit rot or an overwrite until someone says otherwise.
    const changedNote = `checksum was ${previous.sha256.slice(0, 12)}… on ${previous.verifiedAt}, now ${parsed.sha256.slice(0, 12)}…`;
    if (request.reread && ok) {
      deps.manifest.archives[key] = entry;
      return result({ verdict: 'ok', checksum: 'accepted', sha256: parsed.sha256, detail: changedNote });
    }
    deps.manifest.archives[key] = { ...previous, changedSha256: parsed.sha256, changedSeenAt: previous.changedSha256 === parsed.sha256 ? previous.changedSeenAt ?? verifiedAt : verifiedAt };
    return result({ verdict: ok ? 'ok' : 'corrupt', checksum: 'changed', sha256: parsed.sha256, detail: [changedNote, failure].filter(Boolean).join('; '), referenceVerifiedAt: previous.verifiedAt });
  } catch (err) {
    if (CancelledError.is(err)) throw err;
    return result({ verdict: 'unreadable', checksum: 'none', sha256: undefined, detail: err instanceof Error ? err.message : String(err) });
  }
}

/** The node's last line (progress meters use carriage returns), for a finding. */
function lastWords(text: string): string {
  return (text.split(/[\r\n]+/).map((l) => l.trim()).filter(Boolean).at(-1) ?? '').slice(0, 300);
}

function guestName(guests: readonly Guest[], vmid: number): string | undefined {
  return guests.find((g) => g.vmid === vmid)?.name;
}

function archiveFindings(c: ArchiveCheck, at: Omit<Finding, 'severity' | 'code' | 'message'>): Finding[] {
  const who = c.guest ? `${c.guest} (${c.vmid})` : String(c.vmid);
  const base = { ...at, node: c.node, volid: c.volid };
  const out: Finding[] = [];
  if (c.checksum === 'changed') {
    out.push({ ...base, severity: 'error', code: 'archive-changed', message: msg('Archive {0} of {1} changed since it was verified on {2} (same name, different checksum): bit rot or overwritten. It is reported on every run until you re-verify it on purpose: lifeboat verify-backups --reread --vmid {3} (in VS Code: Verify Backups, Re-read everything) takes the new checksum as the reference if the archive passes its check', c.volid, who, (c.referenceVerifiedAt ?? '?').slice(0, 16).replace('T', ' '), c.vmid) });
  } else if (c.checksum === 'accepted') {
    out.push({ ...base, severity: 'warning', code: 'archive-changed', message: msg('Archive {0} of {1} had changed since it was verified; re-read on purpose and intact, its new checksum is now the reference', c.volid, who) });
  }
  switch (c.verdict) {
    case 'corrupt':
      out.push({ ...base, severity: 'error', code: 'archive-corrupt', message: msg('Archive {0} of {1} is CORRUPT: {2}', c.volid, who, c.detail ?? '') });
      break;
    case 'missing':
      out.push({ ...base, severity: 'error', code: 'archive-missing', message: msg('Archive {0} of {1} is listed but missing on {2}: {3}', c.volid, who, c.node, c.detail ?? '') });
      break;
    case 'empty':
      out.push({ ...base, severity: 'error', code: 'archive-empty', message: msg('Archive {0} of {1} is empty (0 bytes)', c.volid, who) });
      break;
    case 'unreadable':
      out.push({ ...base, severity: 'error', code: 'archive-unreadable', message: msg('Archive {0} of {1} could not be checked on {2}: {3}', c.volid, who, c.node, c.detail ?? '') });
      break;
    case 'pbs-failed':
      out.push({ ...base, severity: 'error', code: 'pbs-failed', message: msg('PBS snapshot {0} of {1} FAILED its last verification', c.volid, who) });
      break;
    case 'pbs-unverified':
      out.push({ ...base, severity: 'warning', code: 'pbs-unverified', message: msg('PBS snapshot {0} of {1} has never been verified: schedule a verify job on the PBS server', c.volid, who) });
      break;
    default:
      break;
  }
  return out;
}

async function checkStates(env: EnvironmentConfig, deps: VerifyDeps, request: VerifyRequest, findings: Finding[]): Promise<StateVersionCheck[]> {
  const out: StateVersionCheck[] = [];
  const at = { environment: env.name, file: env.backendPath ?? env.tfvarsPath };
  if (env.backend.type === 'local') {
    const file = path.join(env.dir, 'terraform.tfstate');
    let body: Buffer;
    try {
      body = await fs.readFile(file);
    } catch {
      return out;
    }
    const parsed = parseState(body);
    out.push({ environment: env.name, where: file, versionId: undefined, isLatest: true, valid: parsed.ok, reason: parsed.ok ? undefined : parsed.reason, cached: false });
    findings.push(parsed.ok
      ? { ...at, severity: 'ok', code: 'state-ok', message: msg('The local state of {0} is a valid Terraform state', env.name) }
      : { ...at, severity: 'error', code: 'state-current-invalid', message: msg('The local state of {0} ({1}) is not a valid Terraform state: {2}', env.name, file, parsed.reason) });
    return out;
  }
  const store = deps.stateStore?.(env);
  if (!store) {
    findings.push({ ...at, severity: 'warning', code: 'state-not-verified', message: msg('The state versions of {0} were not verified: no S3 credentials. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the variable that minio.root_password names) — in VS Code, enter them when asked — and verify again', env.name) });
    return out;
  }
  if ('unavailable' in store) {
    findings.push({ ...at, severity: 'warning', code: 'state-not-verified', message: msg('The state versions of {0} were not verified: {1}', env.name, store.unavailable) });
    return out;
  }
  const where = `${store.endpoint}/${store.bucket}/${store.key}`;
  let versions;
  try {
    const versioning = await store.versioning(deps.signal);
    if (versioning !== 'Enabled') {
      findings.push({ ...at, severity: 'error', code: 'state-versioning', message: msg('Versioning of bucket {0} is {1}, not Enabled: an overwritten state cannot be recovered', store.bucket, versioning) });
    }
    versions = await store.listVersions(deps.signal);
  } catch (err) {
    if (CancelledError.is(err)) throw err;
    findings.push({ ...at, severity: 'warning', code: 'state-unreadable', message: msg('The state versions of {0} could not be read ({1}): not verified', env.name, err instanceof Error ? err.message : String(err)) });
    return out;
  }
  // No version at all, or a delete marker on top: Terraform would start from an empty state.
  const current = versions.find((v) => v.isLatest);
  if (!current || current.isDeleteMarker) {
    const kept = versions.filter((v) => !v.isDeleteMarker).length;
    findings.push({ ...at, severity: 'error', code: 'state-no-current', message: current
      ? msg('No current state for {0}: the current version of {1} is a delete marker (the state was deleted; {2} older version(s) kept). Restore one with lifeboat restore-tfstate', env.name, where, kept)
      : kept > 0
        ? msg('No current state for {0}: {1} has {2} version(s) but none is the current one. Restore one with lifeboat restore-tfstate', env.name, where, kept)
        : msg('No current state for {0}: {1} holds no version at all. Upload a local state (lifeboat rebuild-minio offers it) or rebuild the state by importing', env.name, where) });
  }
  let valid = 0;
  let currentValid = false;
  for (const v of versions) {
    if (v.isDeleteMarker) continue;
    const key = stateKey(store.bucket, store.key, v.versionId);
    const known = deps.manifest.states[key];
    let ok: boolean;
    let reason: string | undefined;
    let cached = false;
    if (known && !request.reread) {
      ok = known.valid;
      reason = known.reason;
      cached = true;
    } else {
      try {
        const parsed = parseState(await store.read(v.versionId, deps.signal));
        ok = parsed.ok;
        reason = parsed.ok ? undefined : parsed.reason;
        deps.manifest.states[key] = { valid: ok, ...(reason ? { reason } : {}), checkedAt: new Date().toISOString() };
      } catch (err) {
        if (CancelledError.is(err)) throw err;
        findings.push({ ...at, severity: 'warning', code: 'state-unreadable', message: msg('State version {0} of {1} could not be read: {2}', v.versionId, env.name, err instanceof Error ? err.message : String(err)) });
        continue;
      }
    }
    out.push({ environment: env.name, where, versionId: v.versionId, isLatest: v.isLatest, valid: ok, reason, cached });
    if (ok) {
      valid++;
      if (v.isLatest) currentValid = true;
    } else if (v.isLatest) findings.push({ ...at, severity: 'error', code: 'state-current-invalid', message: msg('The CURRENT state of {0} ({1}) is not a valid Terraform state: {2}. Restore a good version with lifeboat restore-tfstate', env.name, v.versionId, reason ?? '') });
    else findings.push({ ...at, severity: 'warning', code: 'state-invalid', message: msg('State version {0} of {1} from {2} is not a valid Terraform state ({3}): never restore it', v.versionId, env.name, v.lastModified.toISOString(), reason ?? '') });
  }
  if (currentValid) findings.push({ ...at, severity: 'ok', code: 'state-ok', message: msg('{0} of {1} state version(s) of {2} are valid Terraform states', valid, out.length, env.name) });
  return out;
}
