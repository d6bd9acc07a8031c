#!/usr/bin/env node
// @ts-check
// The extension-host tests on the simulated homelab (test/host/lab, bundled to out/test/host/labIndex.js)
// inside a real VS Code extension host: the same mechanism as runHost.mjs (code-server in
// smoke-test-driver mode, this repository as development extension, the tests module through the
// `payload` URL), but on the lab's workspace (.lab/workspace) and with the lab's environment
// (.lab/env: LIFEBOAT_LAB=1, LIFEBOAT_SSH_*, AWS_*, MINIO_ROOT_PASSWORD, PATH with .lab/bin first)
// inherited by code-server and so by the extension host. The lab is reused when it runs, otherwise
// started for this run and stopped at its end (scripts/e2e/labEnv.mjs).
//
// Usage: node scripts/e2e/runHostLab.mjs [--extension <dir>] [--timeout <seconds>] [--grep <regexp>]
// Needs: scripts/e2e/setup.sh, then `npm run build` (dist/extension.js, out/test/host/labIndex.js, out/lab/lab.cjs).
// Writes test-results/host-lab.json ({ suite, passed, failed }, or $TEST_SUMMARY) and
// test-results/host-lab-workbench.log; exits 0 only if tests ran and all passed.
import { appendFileSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import util from 'node:util';
import { ROOT, launchChromium, startCodeServer, tail, workbenchUrl, writeSummary } from './codeServer.mjs';
import { ensureE2eLab } from './labEnv.mjs';

const SUITE = 'host-lab';
const MARKER = 'LIFEBOAT_HOST_RESULT';
const START_MARKER = 'LIFEBOAT_HOST_START';
/** Everything the workbench and the extension host log (codeAutomationLog), for diagnosis. */
const WORKBENCH_LOG = path.join(ROOT, 'test-results/host-lab-workbench.log');

const { values } = parseArgs({
  options: {
    extension: { type: 'string', default: ROOT },
    timeout: { type: 'string', default: '600' },
    grep: { type: 'string' },
  },
});
const extensionDir = path.resolve(/** @type {string} */ (values.extension));
const timeoutMs = Number(values.timeout) * 1000;
const testsModule = path.join(ROOT, 'out/test/host/labIndex'); // the extension host require()s it

/** @type {{ passed: number, failed: number } | undefined} */
let result;
let passingLine = 0;
let failingLine = 0;
/** @type {(() => Promise<void>)[]} */
const cleanups = [];
const started = Date.now();

/** @type {Promise<void> | undefined} */
let cleaning;
/** Stops the browser and code-server once; concurrent callers (signal handler, main path) share it. */
function cleanup() {
  cleaning ??= (async () => {
    for (const fn of cleanups.splice(0).reverse()) {
      try { await fn(); } catch (err) { console.error(`[host-lab] cleanup: ${err}`); }
    }
  })();
  return cleaning;
}

let streaming = false;
/** Workbench messages that can interleave with the tests' output. */
const WORKBENCH_NOISE = /^(Creation of workbench contribution|\[AccountPolicyGate\]|getaddrinfo ENOTFOUND)/;
/**
 * The workbench's console and the extension host's console both arrive here. Only the tests'
 * output (between index.ts's start and result lines) goes to stdout; all of it goes to the log file.
 * @param {string} level @param {string} line
 */
function onHostOutput(level, line) {
  appendFileSync(WORKBENCH_LOG, `[${level}] ${line}\n`);
  if (line.includes(START_MARKER)) { streaming = true; return; }
  if (streaming && !line.includes(MARKER) && !WORKBENCH_NOISE.test(line)) process.stdout.write(line.endsWith('\n') ? line : `${line}\n`);
  for (const l of line.split('\n')) {
    const marker = l.indexOf(MARKER);
    if (marker >= 0) {
      try { result = JSON.parse(l.slice(marker + MARKER.length)); streaming = false; } catch { /* keep looking */ }
    }
    const m = /^\s*(\d+) (passing|failing)\b/.exec(l);
    if (m?.[2] === 'passing') passingLine = Number(m[1]);
    if (m?.[2] === 'failing') failingLine = Number(m[1]);
  }
}

async function main() {
  mkdirSync(path.dirname(WORKBENCH_LOG), { recursive: true });
  writeFileSync(WORKBENCH_LOG, '');
  for (const [file, hint] of [
    [path.join(extensionDir, 'dist/extension.js'), 'npm run build'],
    [`${testsModule}.js`, 'npm run build'],
  ]) {
    if (!existsSync(file)) throw new Error(`${path.relative(ROOT, file)} is missing (${hint})`);
  }

  const lab = await ensureE2eLab();
  const workspace = lab.workspace;
  // The tests read LIFEBOAT_HOST_GREP (a mocha --grep) from the extension host's environment.
  const env = { ...lab.env, ...(values.grep ? { LIFEBOAT_HOST_GREP: values.grep } : {}) };
  const server = await startCodeServer({ name: SUITE, workspace, driverMode: true, env });
  cleanups.push(server.stop);
  const browser = await launchChromium({ name: SUITE });
  cleanups.push(() => browser.close());
  const page = await browser.newPage();

  /** @type {(code: number) => void} */
  let exitWith = () => {};
  const exited = new Promise((resolve) => { exitWith = resolve; });
  await page.exposeFunction('codeAutomationExit', (/** @type {number} */ code) => exitWith(code));
  await page.exposeFunction('codeAutomationLog', (/** @type {string} */ level, /** @type {unknown[]} */ args) => {
    onHostOutput(level, util.format(...(Array.isArray(args) ? args : [args])));
  });
  page.on('pageerror', (err) => console.error(`[host-lab] page error: ${err.message}`));

  const url = workbenchUrl(server.url, { folder: workspace, extensionDevelopmentPath: extensionDir, extensionTestsPath: testsModule });
  console.error(`[host-lab] opening the workbench (${server.url}) with ${path.relative(ROOT, testsModule)}`);
  // A loaded machine (2 cores shared with other suites) can take long to serve the workbench.
  await page.goto(url, { timeout: 180_000 });

  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  const timedOut = new Promise((resolve) => { timer = setTimeout(() => resolve('timeout'), timeoutMs); });
  const outcome = await Promise.race([exited, timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    const shot = path.join(ROOT, 'test-results/host-timeout.png');
    await page.screenshot({ path: shot }).catch(() => {});
    throw new Error(`no result after ${timeoutMs / 1000} s (screenshot ${path.relative(ROOT, shot)}; server log ${server.logFile})`);
  }
  return /** @type {number} */ (outcome);
}

let exitCode = 1;
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.once(signal, async () => {
    console.error(`[host-lab] ${signal}: stopping`);
    writeSummary(SUITE, result?.passed ?? passingLine, Math.max(1, result?.failed ?? failingLine));
    await cleanup();
    process.exit(130);
  });
}

try {
  const code = await main();
  const passed = result?.passed ?? passingLine;
  let failed = result?.failed ?? failingLine;
  if (!result) console.error(`[host-lab] no ${MARKER} line from the tests; using mocha's summary lines`);
  if (code !== 0 && failed === 0) {
    console.error(`[host-lab] the workbench reported exit code ${code} without failing tests (run() rejected or the tests module did not load)`);
    failed = 1;
  }
  if (passed + failed === 0) {
    console.error('[host-lab] no tests ran');
    failed = 1;
  }
  if (!result) console.error(`[host-lab] last lines of ${path.relative(ROOT, WORKBENCH_LOG)}:\n${tail(WORKBENCH_LOG, 30)}`);
  writeSummary(SUITE, passed, failed);
  exitCode = failed > 0 ? 1 : 0;
  console.log(`host-lab: ${passed} passed, ${failed} failed (${((Date.now() - started) / 1000).toFixed(1)} s)`);
} catch (err) {
  console.error(`[host-lab] ERROR: ${err instanceof Error ? err.message : err}`);
  if (existsSync(WORKBENCH_LOG) && statSync(WORKBENCH_LOG).size > 0) console.error(`[host-lab] last lines of ${path.relative(ROOT, WORKBENCH_LOG)}:\n${tail(WORKBENCH_LOG, 30)}`);
  const passed = result?.passed ?? passingLine;
  const failed = Math.max(1, result?.failed ?? failingLine);
  writeSummary(SUITE, passed, failed);
  console.log(`host-lab: ${passed} passed, ${failed} failed`);
} finally {
  await cleanup();
}
process.exit(exitCode);
