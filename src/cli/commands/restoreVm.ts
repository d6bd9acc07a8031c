/**
 * `lifeboat restore-vm <vmid> [--node N] [--storage S] [--date YYYY-MM-DD] [--target-id ID]
 *  [--link-down] [--dry-run] [--force] [--json]` — the interface of the operator's restore-vm.sh.
 */
import { LifeboatError, loadInventory, planGuestRestore, restoreAftermath } from '../../core';
import { sleep } from '../../adapters/net/probe';
import type { CliIo } from './environments';
import { t } from '../l10n';
import { ExitCode } from '../output';
import { confirmAndRun } from '../planRunner';
import { openRuntime } from '../runtime';
import { describeError } from '../errors';

export interface RestoreVmOptions {
  readonly node?: string;
  readonly storage?: string;
  readonly date?: string;
  readonly targetId?: string;
  readonly linkDown?: boolean;
  readonly dryRun?: boolean;
  readonly force?: boolean;
  readonly json?: boolean;
  readonly root?: string;
  readonly verbose?: boolean;
}

export async function restoreVmCommand(vmid: string, o: RestoreVmOptions, io: CliIo): Promise<number> {
  const rt = await openRuntime(io, { root: o.root, json: Boolean(o.json), verbose: o.verbose });
  const activeRestores = new Set<number>();
  try {
    if (rt.nodes.length === 0) {
      io.err(t('No Proxmox node found in {0}: nothing was changed.', rt.discovery.root));
      return ExitCode.failure;
    }
    const inventory = await loadInventory({ nodes: rt.nodes, pool: rt.pool, log: rt.log, signal: rt.signal });
    for (const n of inventory.nodes.filter((x) => !x.reachable)) io.err(t('Node {0} could not be read: {1}', n.node, n.error?.message ?? ''));
    const { plan, facts } = await planGuestRestore(
      { vmid, node: o.node, storage: o.storage, date: o.date, targetId: o.targetId, linkDown: o.linkDown },
      { inventory, shell: (node) => rt.pool.shell(rt.nodes.find((n) => n.name === node) ?? { name: node, host: node }), probe: rt.probe, sleep, log: rt.log, declared: rt.discovery.environments.flatMap((e) => e.guests), activeRestores, timing: timingFromEnv(io.env) },
    );

    const question = plan.destroys.length ? t('Overwrite it? This cannot be undone except from the safety point.') : t('Run this restore?');
    return await confirmAndRun({ plan, facts, question, aftermath: (stepFacts) => restoreAftermath(facts, stepFacts) }, o, io, rt);
  } catch (err) {
    if (LifeboatError.is(err, 'invalidValue')) {
      io.err(describeError(err));
      return ExitCode.usage;
    }
    const text = describeError(err);
    if (o.json) io.out(JSON.stringify({ status: 'failed', error: { reason: LifeboatError.is(err) ? err.reason : 'internal', message: err instanceof Error ? err.message : String(err) }, changed: false }, null, 2));
    io.err(text);
    io.err(t('Nothing was changed.'));
    return ExitCode.failure;
  } finally {
    rt.dispose();
  }
}

/** The lab scales time down for tests; real nodes use the defaults. */
function timingFromEnv(env: NodeJS.ProcessEnv) {
  const poll = Number(env.LIFEBOAT_POLL_MS);
  return Number.isFinite(poll) && poll > 0 ? { pollMs: poll } : {};
}

