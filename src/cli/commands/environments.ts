/**
 * `lifeboat environments [--json] [--root DIR]`: what Lifeboat discovers in the operator's
 * repository, before any network access.
 */
import * as path from 'node:path';
import { declaredGuests, discoverEnvironments, environmentsReport, findRepositoryRoot, homelabNodes, type Discovery, type EnvironmentConfig } from '../../core';
import { ExitCode, type Styles } from '../output';
import { t } from '../l10n';
import { describeProblem } from '../../shared/problemText';

export interface EnvironmentsOptions {
  readonly json?: boolean;
  readonly root?: string;
  readonly glob?: string;
}

export interface CliIo {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  out(line: string): void;
  err(line: string): void;
  readonly style: Styles;
}

export async function environmentsCommand(options: EnvironmentsOptions, io: CliIo): Promise<number> {
  const root = options.root ? path.resolve(io.cwd, options.root) : (await findRepositoryRoot(io.cwd, options.glob)) ?? io.cwd;
  const discovery = await discoverEnvironments({ root, glob: options.glob, env: io.env });
  if (options.json) {
    io.out(JSON.stringify(environmentsReport(discovery), null, 2));
  } else {
    printHuman(discovery, io);
  }
  if (discovery.environments.length === 0) {
    if (!options.json) io.err(t('No environment found under {0}. Lifeboat looks for {1}; run it inside your infrastructure repository or pass --root.', root, options.glob ?? 'infrastructure/proxmox/environments/*/terraform.tfvars'));
    return ExitCode.failure;
  }
  return discovery.problems.length > 0 ? ExitCode.failure : ExitCode.ok;
}

function printHuman(d: Discovery, io: CliIo): void {
  const s = io.style;
  io.out(`${s.bold(t('Homelab repository'))}: ${d.root}`);
  const nodes = homelabNodes(d.environments);
  if (nodes.length) io.out(`${s.bold(t('Proxmox nodes'))}: ${nodes.map((n) => `${n.name} (${n.host ?? t('address unknown')})`).join(', ')}`);
  for (const env of d.environments) {
    io.out('');
    printEnvironment(env, io);
  }
  if (d.problems.length) {
    io.out('');
    io.out(s.red(s.bold(t('Problems'))));
    for (const p of d.problems) io.out(`  ${describeProblem(p, t)}`);
  }
}

function printEnvironment(env: EnvironmentConfig, io: CliIo): void {
  const s = io.style;
  const rel = path.relative(process.cwd(), env.tfvarsPath) || env.tfvarsPath;
  io.out(`${s.bold(env.name)}  ${s.dim(rel)}`);
  if (env.defaultNode || env.endpoint) io.out(`  ${t('Node')}: ${env.defaultNode ?? '?'}${env.endpoint ? `  (${env.endpoint})` : ''}`);
  const b = env.backend;
  if (b.type === 's3') {
    io.out(`  ${t('Terraform state')}: s3://${b.bucket ?? '?'}/${b.key}  ${b.endpoint ?? ''}${b.useLockfile ? `  (${t('lock file')})` : ''}`);
  } else {
    io.out(`  ${t('Terraform state')}: ${t('local backend')}${b.commentedOut ? `  (${t('S3 backend {0} commented out', b.commentedOut.bucket ?? '?')})` : ''}`);
  }
  if (env.backup) {
    const state = env.backup.enabled === false ? s.yellow(t('disabled')) : t('enabled');
    io.out(`  ${t('Backups')}: ${state}, ${t('schedule {0}, storage {1}, {2}', env.backup.schedule ?? '?', env.backup.storage ?? '?', env.backup.compress ?? '?')}`);
  }
  if (env.minio) io.out(`  MinIO: http://${env.minio.ip ?? '?'}:${env.minio.port}  ${t('buckets')}: ${env.minio.buckets.join(', ')}`);
  if (env.monitoring) io.out(`  ${t('Monitoring VM')}: ${env.monitoring.vmIp ?? '?'}  ${t('nodes')}: ${env.monitoring.nodes.map((n) => n.name).join(', ')}`);
  const guests = declaredGuests(env);
  if (guests.length) {
    io.out(`  ${t('Guests')}:`);
    for (const g of guests) io.out(`    ${g.name.padEnd(14)} ${(g.kind === 'vm' ? 'VM' : 'LXC').padEnd(4)} ${(g.ip ?? '').padEnd(15)} ${g.node ?? ''}`);
  } else {
    io.out(`  ${t('Guests')}: ${t('none declared')}`);
  }
}
