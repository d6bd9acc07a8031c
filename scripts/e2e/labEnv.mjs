// @ts-check
// The simulated homelab for the real-VS-Code suites that run on it (runHostLab.mjs, runUiLab.mjs):
// reuse the running lab or start one (then it is stopped when this process exits, never otherwise),
// and the environment code-server must inherit so that the extension host reaches the lab: the
// variables of .lab/env (LIFEBOAT_LAB=1, LIFEBOAT_SSH_*, AWS_*, MINIO_ROOT_*, ...) and PATH with
// .lab/bin first (then Node 24 for code-server).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { NODE24_DIR, ROOT } from './codeServer.mjs';

const require = createRequire(import.meta.url);

/**
 * @typedef {object} E2eLab
 * @property {string} workspace        .lab/workspace (absolute)
 * @property {Record<string, string>} env   the variables of .lab/env, PATH = .lab/bin:<Node 24>/bin:$PATH
 * @property {boolean} startedHere     true when this process started the lab (it stops it on exit)
 * @property {(node: string, command: string) => string} ssh  runs a command on a lab node over OpenSSH, returns stdout
 * @property {(node: string) => { vmid: number, name?: string, status: string, node: string, lock?: string }[]} guests
 *           /cluster/resources --type vm as seen from that node
 */

/**
 * @param {{ build?: boolean }} [options]  build: run `node esbuild.mjs` first when out/lab/lab.cjs is missing
 * @returns {Promise<E2eLab>}
 */
export async function ensureE2eLab(options = {}) {
  const bundle = path.join(ROOT, 'out/lab/lab.cjs');
  if (!existsSync(bundle)) {
    if (!options.build) throw new Error(`${path.relative(ROOT, bundle)} is missing (npm run build)`);
    execFileSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, stdio: 'inherit' });
  }
  /** @type {typeof import('../../lab/lab')} */
  const lab = require(bundle);
  const t0 = Date.now();
  const ctx = await lab.ensureLab();
  console.error(ctx.startedHere
    ? `[lab] started a lab in ${((Date.now() - t0) / 1000).toFixed(1)} s (stopped when this run ends)`
    : '[lab] reusing the running lab (left running)');
  const workspace = ctx.paths.workspace;
  if (!existsSync(workspace)) throw new Error(`${workspace} does not exist: is the lab up? (npm run lab -- status)`);
  const env = {
    ...ctx.env,
    PATH: `${ctx.paths.bin}:${NODE24_DIR}/bin:${process.env.PATH ?? ''}`,
    // The VS Code server builds the extension host's environment as { ...its own, ...the login shell's }
    // (resolveShellEnv: `bash -il` re-reads /etc/profile and resets PATH, dropping .lab/bin). It skips
    // that resolution when VSCODE_CLI=1 (its only use in server-main.js of 1.139.1), so the extension
    // host gets exactly this environment.
    VSCODE_CLI: '1',
  };
  for (const key of ['LIFEBOAT_LAB', 'LIFEBOAT_SSH_CONFIG', 'LIFEBOAT_KNOWN_HOSTS', 'LIFEBOAT_SSH_KEY']) {
    if (!env[key]) throw new Error(`${ctx.paths.env} does not set ${key}`);
  }
  const ssh = (/** @type {string} */ node, /** @type {string} */ command) => {
    const r = spawnSync('ssh', ['-F', env.LIFEBOAT_SSH_CONFIG, '-o', 'BatchMode=yes', node, command], {
      encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env },
    });
    if (r.status !== 0) throw new Error(`ssh ${node} ${command}: exit ${r.status ?? r.signal}: ${r.stderr.trim()}`);
    return r.stdout;
  };
  const guests = (/** @type {string} */ node) => JSON.parse(ssh(node, 'pvesh get /cluster/resources --type vm --output-format json'));
  return { workspace, env, startedHere: ctx.startedHere, ssh, guests };
}
