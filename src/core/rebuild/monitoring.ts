/**
 * Rebuild the monitoring stack (runbook step 3). `restore`: the guest-recovery procedure on the
 * monitoring VM (found by name in the inventory; newest backup, safety point included), then the
 * health checks. `rebuild`: `terraform apply -target=module.monitoring_stack` (a new, empty VM: the
 * metrics history is lost — said before asking), then the health checks. Health: Prometheus
 * `/-/ready` and its targets, Grafana `/api/health`, Alertmanager `/-/healthy`, each reported.
 */
import { CancelledError, LifeboatError } from '../errors';
import { checkMonitoring, type HealthResult } from '../health/health';
import type { EnvironmentConfig } from '../model/environment';
import type { LogSink, NetworkProbe, Sleep, TerraformRunner } from '../ports';
import { english, joinedMessages, msg, type Message } from '../procedure/message';
import type { Plan, Step } from '../procedure/types';
import { planGuestRestore, restoreAftermath, type GuestRestoreDeps, type GuestRestoreFacts } from '../restore/guestRestore';
import { errorSummary, runTerraform, terraformLine } from '../state/terraform';

export type MonitoringMode = 'restore' | 'rebuild';

/** How the report's `health.<service>` facts (JSON, English) start when the service failed. */
const NOT_HEALTHY = 'NOT healthy: ';

export const TF_APPLY_MONITORING = ['apply', '-target=module.monitoring_stack', '-auto-approve', '-input=false'] as const;

export interface MonitoringHealthTiming {
  readonly attempts: number;
  readonly delayMs: number;
}

export const defaultMonitoringHealthTiming: MonitoringHealthTiming = { attempts: 20, delayMs: 3000 };

export interface MonitoringRebuildDeps {
  readonly environments: readonly EnvironmentConfig[];
  readonly terraform: TerraformRunner;
  readonly terraformEnv: Readonly<Record<string, string | undefined>>;
  readonly probe: NetworkProbe;
  readonly sleep: Sleep;
  readonly log: LogSink;
  /** For `restore`: everything the guest-recovery procedure needs (inventory, shells…). */
  readonly guestRestore?: GuestRestoreDeps;
  /** The monitoring VM's name on the nodes (default `monitoring`). */
  readonly vmName?: string;
  readonly health?: Partial<MonitoringHealthTiming>;
}

export interface MonitoringRebuildFacts {
  readonly mode: MonitoringMode;
  readonly environment: string;
  readonly dir: string;
  readonly vmIp: string;
  readonly vmid: number | undefined;
  readonly restore: GuestRestoreFacts | undefined;
}

export async function planMonitoringRebuild(mode: MonitoringMode, deps: MonitoringRebuildDeps): Promise<{ plan: Plan; facts: MonitoringRebuildFacts }> {
  const env = deps.environments.find((e) => e.monitoring && e.modules.includes('monitoring_stack')) ?? deps.environments.find((e) => e.monitoring);
  if (!env?.monitoring) {
    throw new LifeboatError('invalidValue', 'no environment declares a monitoring block in terraform.tfvars', { field: 'monitoring', value: '', expected: 'monitoring = { vm = { ip, ... } } in the monitoring environment' });
  }
  const vmIp = env.monitoring.vmIp?.replace(/\/\d+$/, '');
  if (!vmIp) throw new LifeboatError('invalidValue', `the monitoring block of ${env.name} has no vm.ip`, { field: 'monitoring.vm.ip', value: '', expected: 'vm = { ip = "<address>" }' });
  const health = { ...defaultMonitoringHealthTiming, ...deps.health };
  const name = deps.vmName ?? 'monitoring';

  if (mode === 'restore') {
    const g = deps.guestRestore;
    if (!g) throw new Error('planMonitoringRebuild(restore) needs guestRestore deps');
    const vm = g.inventory.guests.find((x) => x.name === name && x.type === 'qemu') ?? g.inventory.guests.find((x) => x.name === name);
    const fromBackups = vm ? undefined : g.inventory.backups.find((b) => b.notes === name);
    const vmid = vm?.vmid ?? fromBackups?.vmid;
    if (vmid === undefined) {
      throw LifeboatError.saying('vmidNotFound', msg('No guest named {0} on any node and no backup noted {0}: restore it by VMID with lifeboat restore-vm, or use --mode rebuild', name), { name });
    }
    // The monitoring VM is declared by the `monitoring` block, not in `vms`: its address comes from there.
    const declared = g.declared.some((d) => d.name === name)
      ? g.declared
      : [...g.declared, { name, kind: 'vm' as const, environment: env.name, node: vm?.node, ip: vmIp, cores: undefined, memoryMiB: undefined, diskGiB: undefined, tags: [], vmid, range: env.monitoring.range }];
    const { plan, facts: restore } = await planGuestRestore({ vmid, node: vm?.node }, { ...g, declared });
    const facts: MonitoringRebuildFacts = { mode, environment: env.name, dir: env.dir, vmIp, vmid, restore };
    return {
      plan: {
        ...plan,
        id: `rebuild-monitoring-${Date.now().toString(36)}`,
        kind: 'rebuild-monitoring',
        title: msg('Restore the monitoring VM {0} from its newest backup', vmid),
        // The restore's own reachability step waits for port 22; the services are checked after it.
        steps: [...plan.steps, healthStep(vmIp, deps, health)],
        nextSteps: [...plan.nextSteps, ...followUps(mode, env.name)],
      },
      facts,
    };
  }

  if (!env.modules.includes('monitoring_stack')) {
    throw new LifeboatError('invalidValue', `environment ${env.name} has no module "monitoring_stack": terraform apply -target=module.monitoring_stack has nothing to apply`, { field: 'module', value: 'monitoring_stack', expected: `module "monitoring_stack" in ${env.dir}` });
  }
  const version = await deps.terraform.run(['version'], { cwd: env.dir, env: deps.terraformEnv });
  if (version.code !== 0) {
    throw LifeboatError.saying('remoteCommandFailed', msg('terraform is not available here ({0}): install it or put it on PATH', errorSummary(version.stderr || version.stdout) || `exit ${version.code ?? 'none'}`), { command: 'terraform version' });
  }
  const apply: Step = {
    id: 'apply',
    title: msg('Create or start the monitoring VM with Terraform (in {0})', env.name),
    destructive: true,
    cancel: 'between-steps',
    commands: [`cd ${env.dir} && ${terraformLine(TF_APPLY_MONITORING)}`],
    effect: msg('A monitoring VM built from scratch when it is missing (empty metrics), or the existing one started'),
    async run(ctx) {
      const r = await runTerraform(deps.terraform, TF_APPLY_MONITORING, env.dir, deps.terraformEnv, ctx);
      const summary = /^Apply complete!.*$/m.exec(r.stdout)?.[0] ?? 'applied';
      ctx.facts.set('apply', summary);
      return msg('terraform apply: {0}', summary);
    },
  };
  const facts: MonitoringRebuildFacts = { mode, environment: env.name, dir: env.dir, vmIp, vmid: undefined, restore: undefined };
  return {
    plan: {
      id: `rebuild-monitoring-${Date.now().toString(36)}`,
      kind: 'rebuild-monitoring',
      title: msg('Rebuild the monitoring stack with Terraform'),
      summary: [
        { label: msg('Environment'), value: `${env.name} (${env.dir})` },
        { label: msg('Monitoring VM'), value: vmIp },
        { label: msg('Terraform'), value: version.stdout.split('\n')[0]?.trim() ?? '' },
      ],
      warnings: [msg('The METRICS HISTORY WILL BE LOST: a rebuilt monitoring VM starts with empty Prometheus data and Grafana without the changes made in its UI. To keep them, use --mode restore (from the newest backup) instead.')],
      destroys: [msg('The metrics history (Prometheus data) and any Grafana change not in code, if the VM is recreated')],
      steps: [apply, healthStep(vmIp, deps, health)],
      nextSteps: followUps(mode, env.name),
    },
    facts,
  };
}

function healthStep(vmIp: string, deps: MonitoringRebuildDeps, timing: MonitoringHealthTiming): Step {
  return {
    id: 'health',
    title: msg('Check Prometheus, its targets, Grafana and Alertmanager on {0}', vmIp),
    destructive: false,
    cancel: 'anytime',
    commands: [
      `GET http://${vmIp}:9090/-/ready`, `GET http://${vmIp}:9090/api/v1/targets`, `GET http://${vmIp}:3000/api/health`, `GET http://${vmIp}:9093/-/healthy`,
      `# up to ${timing.attempts} tries, ${timing.delayMs} ms apart (the services start after boot)`,
    ],
    async run(ctx) {
      let results: HealthResult[] = [];
      for (let attempt = 1; attempt <= timing.attempts; attempt++) {
        if (ctx.signal.aborted) throw new CancelledError();
        results = await checkMonitoring(deps.probe, vmIp, 3000, ctx.signal);
        const core = results.filter((r) => r.service !== 'prometheus-targets');
        const healthy = results.filter((r) => r.healthy).map((r) => r.service).join(', ');
        const notYet = results.filter((r) => !r.healthy).map((r) => `${r.service} (${r.observed})`).join(', ');
        ctx.report({ fraction: attempt / timing.attempts, message: msg('try {0} of {1}: healthy: {2}; not yet: {3}', attempt, timing.attempts, healthy || '—', notYet || '—') });
        if (core.every((r) => r.healthy) && results.every((r) => r.healthy || r.service === 'prometheus-targets')) break;
        if (attempt < timing.attempts) await deps.sleep(timing.delayMs, ctx.signal);
      }
      for (const r of results) {
        ctx.facts.set(`health.${r.service}`, `${r.healthy ? 'healthy: ' : NOT_HEALTHY}${r.observed}${r.detail ? ` (${english(r.detail)})` : ''} — ${r.url}`);
        ctx.log.info(`  ${r.healthy ? '✓' : '✗'} ${r.service}: ${r.observed}${r.detail ? ` (${english(r.detail)})` : ''}`);
      }
      const core = results.filter((r) => r.service !== 'prometheus-targets');
      const bad = core.filter((r) => !r.healthy);
      if (bad.length) {
        throw LifeboatError.saying('unreachableAfterRestore', msg('Not healthy after {0} tries: {1}. The VM is there; check these services on it (systemctl status, their logs), then Check Monitoring Health again', timing.attempts, joinedMessages(bad.map((r) => msg('{0} ({1} at {2})', r.service, r.observed, r.url)), 'comma')), { vmIp });
      }
      const targets = results.find((r) => r.service === 'prometheus-targets');
      return targets && !targets.healthy
        ? msg('Prometheus, Grafana and Alertmanager are healthy; Prometheus targets: {0}', targets.detail ?? targets.observed)
        : msg('Prometheus, Grafana and Alertmanager are healthy; Prometheus targets: {0}', targets?.detail ?? '?');
    },
  };
}

function followUps(mode: MonitoringMode, env: string): Message[] {
  return [
    ...(mode === 'rebuild' ? [msg('The monitoring VM has a NEW SSH key pair: add its public key to every node\'s authorized_keys (and remove the old one) so the exporters can be scraped')] : []),
    msg('Check the Prometheus targets page: every node and guest exporter should be up'),
    msg('Check Alertmanager routes and send a test alert'),
    msg('Run terraform plan in environments/{0}: it should say No changes', env),
  ];
}

/** What a failed or cancelled monitoring rebuild leaves behind. */
export function monitoringAftermath(f: MonitoringRebuildFacts, facts: ReadonlyMap<string, string>): Message[] {
  const out: Message[] = f.restore ? restoreAftermath(f.restore, facts).filter((m) => m.text !== 'Nothing was overwritten.') : [];
  if (f.restore && facts.get('restored') === 'true') {
    out.push(msg('The monitoring VM {0} WAS restored from {1}{2}', f.restore.vmid, f.restore.backup.volid, facts.get('safetyPoint') ? `; the VM as it was before is saved in ${facts.get('safetyPoint')}` : ''));
  }
  if (facts.get('apply')) out.push(msg('terraform apply ran ({0}): the monitoring VM exists; running the rebuild again is safe', facts.get('apply')!));
  for (const [k, v] of facts) {
    if (k.startsWith('health.') && v.startsWith(NOT_HEALTHY)) out.push(msg('{0} is NOT healthy: {1}', k.slice('health.'.length), v.slice(NOT_HEALTHY.length)));
  }
  if (out.length === 0) out.push(msg('Nothing was changed.'));
  return out;
}
