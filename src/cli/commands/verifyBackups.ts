/**
 * `lifeboat verify-backups [--full] [--reread] [--env E] [--vmid N] [--json]` — the interface of the
 * operator's verify-backups.sh. Exit codes: 0 everything verified, 1 warnings (or cancelled),
 * 2 errors (a corrupt or missing archive, a guest never backed up…). Read-only on the nodes; writes
 * the checksum manifest and a Markdown record under `.lifeboat/` in the repository.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import {
  CancelledError, errorArg, LifeboatError, loadInventory, readManifest, s3Credentials, stateLocation, verifyBackups, verifyJson, verifyLines, verifyMarkdown, writeManifest,
  type EnvironmentConfig, type StateStoreLookup,
} from '../../core';
import { createMinioStateStore } from '../../adapters/s3/minioStore';
import type { CliIo } from './environments';
import { t } from '../l10n';
import { ExitCode } from '../output';
import { openRuntime } from '../runtime';
import { describeError } from '../errors';

export interface VerifyBackupsOptions {
  readonly full?: boolean;
  readonly reread?: boolean;
  readonly env?: string;
  readonly vmid?: string;
  readonly json?: boolean;
  readonly root?: string;
  readonly verbose?: boolean;
  readonly rpoHours?: string;
}

export async function verifyBackupsCommand(o: VerifyBackupsOptions, io: CliIo): Promise<number> {
  const rt = await openRuntime(io, { root: o.root, json: Boolean(o.json), verbose: o.verbose });
  try {
    if (rt.nodes.length === 0) {
      if (o.json) io.out(jsonFailure('noNodes', `no Proxmox node found in ${rt.discovery.root}: nothing was verified`));
      io.err(t('No Proxmox node found in {0}: nothing was verified.', rt.discovery.root));
      return ExitCode.usage;
    }
    const root = rt.discovery.root;
    const { manifest, problem } = await readManifest(root);
    if (problem) io.err(problem);
    const inventory = await loadInventory({ nodes: rt.nodes, pool: rt.pool, log: rt.log, signal: rt.signal });
    const credentials = s3Credentials(rt.discovery.environments, io.env);
    // Without credentials (or a store that cannot be made) the verification says so in a finding.
    const stores = new Map<string, StateStoreLookup>();
    const stateStore = (env: EnvironmentConfig): StateStoreLookup => {
      if (!stores.has(env.name)) {
        let store: StateStoreLookup;
        try {
          store = credentials ? createMinioStateStore({ location: stateLocation(env), credentials, labOnly: io.env.LIFEBOAT_LAB === '1', timeoutMs: Number(io.env.LIFEBOAT_S3_TIMEOUT_MS) || 5000 }) : undefined;
        } catch (err) {
          store = { unavailable: errorArg(err) };
        }
        stores.set(env.name, store);
      }
      return stores.get(env.name);
    };
    let lastShown = -1;
    const result = await verifyBackups(
      { full: Boolean(o.full), reread: Boolean(o.reread), environment: o.env, vmid: o.vmid ? Number(o.vmid) : undefined },
      {
        environments: rt.discovery.environments,
        inventory,
        shell: (node) => rt.pool.shell(rt.nodes.find((n) => n.name === node) ?? { name: node, host: node }),
        probe: rt.probe,
        log: rt.log,
        manifest,
        stateStore,
        rpoFallbackHours: Number(o.rpoHours) > 0 ? Number(o.rpoHours) : 26,
        signal: rt.signal,
        onProgress: (p) => {
          const pct = p.total ? Math.floor((p.done / p.total) * 10) : 10;
          if (pct !== lastShown) {
            lastShown = pct;
            io.err(t('Verifying {0}/{1} archive(s)…', p.done, p.total));
          }
        },
      },
    );
    const manifestFile = await writeManifest(root, manifest);
    const reportDir = path.join(root, '.lifeboat', 'reports');
    await fs.mkdir(reportDir, { recursive: true });
    const reportFile = path.join(reportDir, `${result.startedAt.replace(/[:.]/g, '-')}-verify-backups.md`);
    await fs.writeFile(reportFile, verifyMarkdown(result, t, (f) => path.relative(root, f)));
    if (o.json) {
      io.out(JSON.stringify(verifyJson(result, { manifest: manifestFile, reportFile }), null, 2));
    } else {
      for (const line of verifyLines(result, t)) io.out(line);
      io.out(t('Report written to {0}', reportFile));
    }
    return result.exitCode;
  } catch (err) {
    if (CancelledError.is(err)) {
      if (o.json) io.out(JSON.stringify({ status: 'cancelled', exitCode: ExitCode.failure }, null, 2));
      io.err(t('Cancelled: nothing was verified.'));
      return ExitCode.failure;
    }
    if (o.json) io.out(jsonFailure(LifeboatError.is(err) ? err.reason : 'internal', err instanceof Error ? err.message : String(err)));
    io.err(describeError(err));
    // A bad --env is a usage error (2); anything else that stopped the verification is a failure
    // to verify, which is as serious as the errors it could have found (2).
    return LifeboatError.is(err, 'invalidValue') ? ExitCode.usage : 2;
  } finally {
    rt.dispose();
  }
}

/** What `--json` prints when the verification could not run: stdout always carries JSON. */
function jsonFailure(reason: string, message: string): string {
  return JSON.stringify({ status: 'failed', exitCode: 2, error: { reason, message } }, null, 2);
}
