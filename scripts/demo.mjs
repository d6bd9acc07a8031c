#!/usr/bin/env node
// @ts-check
// The demo: the simulated homelab (npm run lab -- up: Proxmox nodes behind OpenSSH, S3 with
// versioning, the Terraform stand-in) and a real VS Code (code-server) with Lifeboat installed,
// opened on the lab's workspace and served on http://127.0.0.1:18080 until Ctrl-C / SIGTERM, which
// stops everything the demo started.
//
// Usage: node scripts/demo.mjs [--sample | --workspace <dir>] [--port <n>] [--vsix <file> | --dev]
//                              [--no-setup] [--no-build]
//   --sample     no lab: open the sample repository test/fixtures/homelab (discovery only)
//   --workspace  folder to open without the lab
//   --port       port on 127.0.0.1 (default 18080)
//   --vsix       install this .vsix instead of packaging the current build
//   --dev        load this repository as a development extension (smoke-test-driver mode: the title
//                bar shows [Extension Development Host] and notification toasts are not shown)
//   --no-setup / --no-build   skip scripts/e2e/setup.sh / `npm run build`
// By default the current build (dist/) is packaged into .vscode-e2e/demo/lifeboat-demo.vsix with the
// repository's .vscodeignore (a few seconds) and installed, so the demo behaves like a real install.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { E2E_HOME, ROOT, startCodeServer, tail, workbenchUrl } from './e2e/codeServer.mjs';
import { ensureE2eLab } from './e2e/labEnv.mjs';

const { values } = parseArgs({
  options: {
    workspace: { type: 'string' },
    sample: { type: 'boolean', default: false },
    port: { type: 'string', default: '18080' },
    vsix: { type: 'string' },
    dev: { type: 'boolean', default: false },
    'no-setup': { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
  },
});
const withLab = !values.sample && !values.workspace;
const port = Number(values.port);

/** @param {string} what @param {string} cmd @param {string[]} args */
function step(what, cmd, args) {
  const t0 = Date.now();
  process.stderr.write(`[demo] ${what}...\n`);
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) {
    process.stderr.write(`[demo] ${what} failed (${r.status ?? r.signal})\n`);
    process.exit(1);
  }
  process.stderr.write(`[demo] ${what}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}

if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  process.stderr.write(`[demo] invalid --port ${values.port}\n`);
  process.exit(2);
}
if (!values['no-setup']) step('setup', 'bash', [path.join(ROOT, 'scripts/setup.sh')]);
if (!values['no-build']) step('build', 'npm', ['run', '--silent', 'build']);

/** @type {Record<string, string>} */
let labEnv = {};
let workspace = path.resolve(values.workspace ?? path.join(ROOT, 'test/fixtures/homelab'));
if (withLab) {
  process.stderr.write('[demo] starting the simulated homelab (stopped again on Ctrl-C)...\n');
  const lab = await ensureE2eLab({ build: true });
  labEnv = lab.env;
  workspace = lab.workspace;
}
if (!existsSync(workspace)) {
  process.stderr.write(`[demo] workspace ${workspace} does not exist\n`);
  process.exit(2);
}

/** @type {string | undefined} */
let vsix;
if (!values.dev) {
  if (values.vsix) {
    vsix = path.resolve(values.vsix);
  } else {
    mkdirSync(path.join(E2E_HOME, 'demo'), { recursive: true });
    vsix = path.join(E2E_HOME, 'demo/lifeboat-demo.vsix');
    step('packaging the current build', 'npx', ['--no-install', 'vsce', 'package', '--no-dependencies',
      '--skip-license', '--allow-missing-repository', '--out', vsix]);
  }
}

let stopping = false;
const server = await startCodeServer({
  name: 'demo', port, workspace, driverMode: values.dev, env: labEnv, ...(vsix ? { vsix } : {}),
}).catch((err) => {
  process.stderr.write(`[demo] ${err instanceof Error ? err.message : err}\n`);
  process.exit(1);
});

const url = values.dev
  ? workbenchUrl(server.url, { folder: workspace, extensionDevelopmentPath: ROOT })
  : workbenchUrl(server.url, { folder: workspace });
process.stdout.write(`
  Lifeboat demo is running (${values.dev ? 'development extension' : `installed from ${path.relative(ROOT, /** @type {string} */ (vsix))}`}).

    Open:       ${url}
    Workspace:  ${workspace}
    Server log: ${path.relative(ROOT, server.logFile)}
${withLab ? `    Lab:        Proxmox nodes alpha, beta, gamma (127.20.0.10-12, OpenSSH), S3 at 127.20.0.52:9000
    CLI:        source .lab/env && cd .lab/workspace && node ${path.join(ROOT, 'dist/cli.js')} restore-vm 121 --dry-run
` : ''}
  From another machine: ssh -L ${port}:127.0.0.1:${port} <this host>, then open the URL above.
  Press Ctrl-C to stop.

`);

for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\n[demo] ${signal}: stopping code-server...\n`);
    await server.stop();
    process.stderr.write('[demo] stopped\n');
    process.exit(0);
  });
}

const code = await server.exited;
if (!stopping) {
  process.stderr.write(`[demo] code-server exited unexpectedly (${code}); log:\n${tail(server.logFile)}\n`);
  process.exit(1);
}
