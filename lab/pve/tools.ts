/**
 * `writeNodeTools`: the per-node bin directory put first on PATH of the node's SSH sessions
 * (OpenSSH `SetEnv PATH=...` or the in-process server). Each shim pins the node and the state dir
 * and execs the single bundled tool executable.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { TOOL_NAMES } from './toolNames';

const sq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export interface NodeToolsOptions {
  readonly node: string;
  readonly stateDir: string;
  /** Absolute path of the node binary (usually `process.execPath`). */
  readonly nodeExecutable: string;
  /** Absolute path of `out/lab/pve.cjs`. */
  readonly pveScript: string;
}

/** Writes `#!/bin/sh` shims `pvesh qm pct qmrestore vzdump pvesm vma` into `binDir` (created if needed). */
export async function writeNodeTools(binDir: string, opts: NodeToolsOptions): Promise<void> {
  await fs.mkdir(binDir, { recursive: true });
  const stateDir = path.resolve(opts.stateDir);
  const script = path.resolve(opts.pveScript);
  for (const tool of TOOL_NAMES) {
    const text = [
      '#!/bin/sh',
      `# Simulated Proxmox '${tool}' on node ${opts.node} (Lifeboat lab).`,
      `PVE_SIM_STATE=${sq(stateDir)}`,
      `PVE_SIM_NODE=${sq(opts.node)}`,
      `PVE_SIM_SCRIPT=${sq(script)}`,
      'export PVE_SIM_STATE PVE_SIM_NODE PVE_SIM_SCRIPT',
      `exec ${sq(opts.nodeExecutable)} ${sq(script)} ${tool} "$@"`,
      '',
    ].join('\n');
    const file = path.join(binDir, tool);
    await fs.writeFile(file, text, { mode: 0o755 });
    await fs.chmod(file, 0o755);
  }
}
