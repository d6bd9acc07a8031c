/**
 * Helpers for the simulator's own tests (test/lab/pve*.test.ts): build the tool bundle once and
 * run tools against a state dir, plus a small two-node ClusterSpec.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import type { ClusterSpec } from './spec';
import { seedCluster } from './seed';
import { setOutputSink } from './cli';
import { run } from './main';

const GiB = 1024 ** 3;
let built: Promise<string> | undefined;

/**
 * Bundles lab/pve/main.ts to a temp `pve.cjs` with esbuild (same options as lab/build.mjs), once
 * per process, so the tests do not depend on the rest of the project building.
 */
export function buildPveBundle(): Promise<string> {
  built ??= (async () => {
    const esbuild = await import('esbuild');
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pve-bundle-'));
    process.once('exit', () => fs.rmSync(outDir, { recursive: true, force: true }));
    const outfile = path.join(outDir, 'pve.cjs');
    await esbuild.build({ entryPoints: [path.join(__dirname, 'main.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile, logLevel: 'silent', external: ['cpu-features', '*.node'] });
    return outfile;
  })();
  return built;
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node pve.cjs <tool> <args>` as node `node` of the lab in `stateDir`. */
export async function runTool(stateDir: string, node: string, tool: string, args: readonly string[], opts: { input?: Buffer; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  const script = await buildPveBundle();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, tool, ...args], { env: { ...process.env, PVE_SIM_STATE: stateDir, PVE_SIM_NODE: node, PVE_SIM_SCRIPT: script, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? Buffer.alloc(0));
  });
}

/**
 * Runs a tool in this process (much faster than a new node process; same code path as the
 * bundle's entry). Task workers run in this process too (PVE_SIM_INLINE_WORKER); use runTool for
 * the real detached worker.
 */
export async function runToolInProcess(stateDir: string, node: string, tool: string, args: readonly string[]): Promise<RunResult> {
  const script = await buildPveBundle();
  const keys = ['PVE_SIM_STATE', 'PVE_SIM_NODE', 'PVE_SIM_SCRIPT', 'PVE_SIM_INLINE_WORKER'] as const;
  const saved = keys.map((k) => process.env[k]);
  Object.assign(process.env, { PVE_SIM_STATE: stateDir, PVE_SIM_NODE: node, PVE_SIM_SCRIPT: script, PVE_SIM_INLINE_WORKER: '1' });
  let stdout = '';
  let stderr = '';
  setOutputSink({ out: (t) => (stdout += t), err: (t) => (stderr += t) });
  try {
    const code = await run([tool, ...args]);
    return { code, stdout, stderr };
  } finally {
    setOutputSink(undefined);
    keys.forEach((k, i) => {
      if (saved[i] === undefined) delete process.env[k];
      else process.env[k] = saved[i];
    });
  }
}

let template: Promise<string> | undefined;

/**
 * A fresh state dir seeded from smallSpec() (seeded once per process into a template, then
 * copied: the state dir is relocatable, and copying is ~10x faster than re-compressing).
 */
export async function seededStateDir(): Promise<string> {
  template ??= (async () => {
    const d = tempStateDir();
    process.once('exit', () => fs.rmSync(d, { recursive: true, force: true }));
    await seedCluster(d, smallSpec(), new Date('2026-01-04T10:00:00Z'));
    return d;
  })();
  const src = await template;
  const dst = tempStateDir();
  fs.cpSync(src, dst, { recursive: true, preserveTimestamps: true });
  return dst;
}

export function tempStateDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'pve-state-'));
}

/** Two nodes, a VM and a CT with backups (one corrupt, one protected), a stopped VM, one job. */
export function smallSpec(): ClusterSpec {
  const storages = [
    { id: 'local', type: 'dir' as const, content: ['iso', 'vztmpl', 'backup'], totalBytes: 100 * GiB, baseUsedBytes: 12 * GiB },
    { id: 'local-lvm', type: 'lvmthin' as const, content: ['images', 'rootdir'], totalBytes: 400 * GiB },
    { id: 'backups', type: 'nfs' as const, content: ['backup'], totalBytes: 2048 * GiB, baseUsedBytes: 300 * GiB, shared: true },
  ];
  return {
    clusterName: 'homelab',
    nodes: [
      { name: 'alpha', address: '10.20.0.10', labAddress: '127.77.0.10', storages },
      { name: 'beta', address: '10.20.0.11', labAddress: '127.77.0.11', storages },
    ],
    guests: [
      {
        vmid: 121, name: 'gitea', type: 'qemu', node: 'alpha', status: 'running', cores: 2, memoryMiB: 2048, agent: true,
        disks: [{ key: 'scsi0', storage: 'local-lvm', sizeGiB: 32 }], address: '10.20.0.21', labAddress: '127.77.0.21',
        services: [{ kind: 'ssh-banner', port: 22 }], tags: ['prod'],
        backups: [
          { time: '2026-01-01T02:00:05', storage: 'local', compress: 'zstd', notes: 'gitea' },
          { time: '2026-01-02T02:00:05', storage: 'local', compress: 'zstd', notes: 'gitea', protected: true },
          { time: '2026-01-03T02:00:05', storage: 'local', compress: 'zstd', corrupt: true },
        ],
      },
      {
        vmid: 131, name: 'postgres', type: 'lxc', node: 'alpha', status: 'running', cores: 1, memoryMiB: 1024,
        disks: [{ key: 'rootfs', storage: 'local-lvm', sizeGiB: 8 }], address: '10.20.0.31', labAddress: '127.77.0.31',
        services: [{ kind: 'ssh-banner', port: 22 }],
        backups: [
          { time: '2026-01-02T02:10:00', storage: 'backups', compress: 'gzip' },
          { time: '2026-01-03T02:10:00', storage: 'backups', compress: 'zstd' },
        ],
      },
      {
        vmid: 201, name: 'sandbox', type: 'qemu', node: 'beta', status: 'stopped', cores: 1, memoryMiB: 1024,
        disks: [{ key: 'scsi0', storage: 'local-lvm', sizeGiB: 16 }], address: '10.20.0.41', labAddress: '127.77.0.41',
        services: [], backups: [{ time: '2026-01-03T03:00:00', storage: 'local', compress: 'lzo' }],
      },
    ],
    jobs: [{ id: 'backup-9e4e0a5b-6f5c', schedule: '02:00', storage: 'local', enabled: true, mode: 'snapshot', compress: 'zstd', vmids: [121, 131], pruneBackups: { 'keep-daily': '7' }, comment: 'nightly', notesTemplate: '{{guestname}}' }],
  };
}
