/**
 * `lifeboat restore-vm <vmid> [--node N] [--storage S] [--date YYYY-MM-DD] [--target-id ID]
 *  [--link-down | --link-up] [--dry-run] [--force] [--json]` — the interface of the operator's
 *  restore-vm.sh.
 *
 * A copy (`--target-id`) has the original's network configuration, so its link stays down unless
 * `--link-up` says otherwise; on a terminal, without `--force`, the CLI asks (default: leave it
 * down). `--force` answers the confirmation only: it never brings a link up.
 */
import { LifeboatError, declaredGuests, loadInventory, planGuestRestore, restoreAftermath, type GuestRestoreFacts, type RunReport } from '../../core';
import { sleep } from '../../adapters/net/probe';
import type { CliIo } from './environments';
import { t } from '../l10n';
import { ExitCode } from '../output';
import { confirmAndRun } from '../planRunner';
import { confirm } from '../prompt';
import { openRuntime } from '../runtime';
import { describeError } from '../errors';
import { errorText } from '../../shared/reportText';

export interface RestoreVmOptions {
  readonly node?: string;
  readonly storage?: string;
  readonly date?: string;
  readonly targetId?: string;
  readonly linkDown?: boolean;
  readonly linkUp?: boolean;
  readonly dryRun?: boolean;
  readonly force?: boolean;
  readonly json?: boolean;
  readonly root?: string;
  readonly verbose?: boolean;
}

/** `open`: how the SSH pool, probes and log are made (tests pass fakes). */
export async function restoreVmCommand(vmid: string, o: RestoreVmOptions, io: CliIo, open: typeof openRuntime = openRuntime): Promise<number> {
  const rt = await open(io, { root: o.root, json: Boolean(o.json), verbose: o.verbose });
  const activeRestores = new Set<number>();
  try {
    if (rt.nodes.length === 0) {
      io.err(t('No Proxmox node found in {0}: nothing was changed.', rt.discovery.root));
      return ExitCode.failure;
    }
    const linkDown = await copyLinkDown(vmid, o, io);
    const inventory = await loadInventory({ nodes: rt.nodes, pool: rt.pool, log: rt.log, signal: rt.signal });
    for (const n of inventory.nodes.filter((x) => !x.reachable)) io.err(t('Node {0} could not be read: {1}', n.node, n.error ? errorText(n.error, t) : ''));
    const { plan, facts } = await planGuestRestore(
      { vmid, node: o.node, storage: o.storage, date: o.date, targetId: o.targetId, linkDown },
      { inventory, shell: (node) => rt.pool.shell(rt.nodes.find((n) => n.name === node) ?? { name: node, host: node }), probe: rt.probe, sleep, log: rt.log, declared: rt.discovery.environments.flatMap(declaredGuests), activeRestores, timing: timingFromEnv(io.env) },
    );

    const question = plan.destroys.length ? t('Overwrite it? This cannot be undone except from the safety point.') : t('Run this restore?');
    return await confirmAndRun({
      plan, facts, question,
      aftermath: (stepFacts) => restoreAftermath(facts, stepFacts),
      extraLines: (report) => previousBackupLines(report.facts.previousBackup, report.facts.previousBackupDay, facts, o),
      extraJson: (report) => previousBackupJson(report, facts, o),
    }, o, io, rt);
  } catch (err) {
    // Every value of the command line was checked before this runs (exit 2): an invalid value here
    // comes from the repository or a node, and is a failure like any other (exit 1).
    const text = describeError(err);
    const previous = LifeboatError.is(err, 'backupCorrupt') && typeof err.details.previousVolid === 'string'
      ? { volid: err.details.previousVolid, day: typeof err.details.previousDay === 'string' ? err.details.previousDay : undefined }
      : undefined;
    if (o.json) {
      io.out(JSON.stringify({
        status: 'failed', error: { reason: LifeboatError.is(err) ? err.reason : 'internal', message: err instanceof Error ? err.message : String(err) }, changed: false,
        ...(previous ? { previousBackup: { volid: previous.volid, ...(previous.day ? { command: restoreCommandLine(vmid, o, previous.day) } : {}) } } : {}),
      }, null, 2));
    }
    io.err(text);
    io.err(t('Nothing was changed.'));
    if (previous) for (const line of previousBackupLines(previous.volid, previous.day, { vmid: Number(vmid), node: o.node }, o)) io.err(line);
    return ExitCode.failure;
  } finally {
    rt.dispose();
  }
}

/**
 * The copy's network link: `--link-up`/`--link-down` say it; otherwise, on a terminal and without
 * `--force` or `--dry-run`, the operator is asked (default no = leave it down); otherwise down.
 */
async function copyLinkDown(vmid: string, o: RestoreVmOptions, io: CliIo): Promise<boolean | undefined> {
  if (o.targetId === undefined) return undefined;
  if (o.linkUp) return false;
  if (o.linkDown) return true;
  const interactive = Boolean(process.stdin.isTTY) && io.env.CI !== 'true';
  if (!interactive || o.force || o.dryRun) return true;
  io.err(t('The copy {0} gets the network configuration of {1}, so the same address: with its link up the two clash on the network.', o.targetId, vmid));
  const up = await confirm(t('Connect the copy\'s network link anyway? (No leaves it down, the safe choice)'), { force: false, interactive });
  return !up;
}

/** After a damaged backup: the next older one, and the command that restores it. */
function previousBackupLines(volid: string | undefined, day: string | undefined, f: Pick<GuestRestoreFacts, 'vmid'> & { node?: string }, o: RestoreVmOptions): string[] {
  if (!volid) return [];
  if (!day) return [t('The previous backup of {0} is {1}, from the same day as the damaged one: restore it from the Recovery explorer ("Restore This Backup…"); --date would pick the damaged one again.', f.vmid, volid)];
  return [t('The previous backup of {0} is {1}. To restore it: {2}', f.vmid, volid, restoreCommandLine(String(f.vmid), { ...o, node: o.node ?? f.node }, day))];
}

function previousBackupJson(report: RunReport, f: GuestRestoreFacts, o: RestoreVmOptions): Record<string, unknown> {
  const volid = report.facts.previousBackup;
  if (!volid) return {};
  const day = report.facts.previousBackupDay;
  return { previousBackup: { volid, ...(day ? { command: restoreCommandLine(String(f.vmid), { ...o, node: o.node ?? f.node }, day) } : {}) } };
}

function restoreCommandLine(vmid: string, o: RestoreVmOptions, day: string): string {
  return ['lifeboat restore-vm', vmid, ...(o.node ? ['--node', o.node] : []), '--date', day, ...(o.targetId ? ['--target-id', o.targetId] : [])].join(' ');
}

/** The lab scales time down for tests; real nodes use the defaults. */
function timingFromEnv(env: NodeJS.ProcessEnv) {
  const poll = Number(env.LIFEBOAT_POLL_MS);
  return Number.isFinite(poll) && poll > 0 ? { pollMs: poll } : {};
}
