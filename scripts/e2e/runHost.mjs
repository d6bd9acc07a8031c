#!/usr/bin/env node
// @ts-check
// Runs the extension-host tests (test/host/suite, bundled to out/test/host/index.js) inside a real
// VS Code extension host: code-server in smoke-test-driver mode, opened in headless Chromium with a
// `payload` that loads this repository as a development extension and runs the tests module
// (shared/reference/vscode-e2e.md §8). Mocha's output is streamed to stdout.
//
// Usage: node scripts/e2e/runHost.mjs [--workspace <dir>] [--extension <dir>] [--timeout <seconds>]
//   --extension: the extension folder to load (default: this repository)
// Needs: scripts/e2e/setup.sh, then `npm run build` (dist/extension.js, out/test/host/index.js).
// Writes test-results/host.json and test-results/host-workbench.log (the workbench's whole console) ({ suite, passed, failed }); exits 0 only if tests ran and all passed.
import { appendFileSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import util from 'node:util';
import { ROOT, launchChromium, startCodeServer, tail, workbenchUrl, writeSummary } from './codeServer.mjs';

const SUITE = 'host';
const MARKER = 'LIFEBOAT_HOST_RESULT';
const START_MARKER = 'LIFEBOAT_HOST_START';
/** Everything the workbench and the extension host log (codeAutomationLog), for diagnosis. */
const WORKBENCH_LOG = path.join(ROOT, 'test-results/host-workbench.log');

const { values } = parseArgs({
  options: {
    workspace: { type: 'string', default: path.join(ROOT, 'test/fixtures/homelab') },
    extension: { type: 'string', default: ROOT },
    timeout: { type: 'string', default: '240' },
  },
});
const workspace = path.resolve(/** @type {string} */ (values.workspace));
const extensionDir = path.resolve(/** @type {string} */ (values.extension));
const timeoutMs = Number(values.timeout) * 1000;
const testsModule = path.join(ROOT, 'out/test/host/index'); // the extension host require()s it

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
      try { await fn(); } catch (err) { console.error(`[host] cleanup: ${err}`); }
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
    [workspace, 'the test workspace (test/fixtures/homelab)'],
  ]) {
    if (!existsSync(file)) throw new Error(`${path.relative(ROOT, file)} is missing (${hint})`);
  }

  const server = await startCodeServer({ name: SUITE, workspace, driverMode: true });
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
  page.on('pageerror', (err) => console.error(`[host] page error: ${err.message}`));

  const url = workbenchUrl(server.url, { folder: workspace, extensionDevelopmentPath: extensionDir, extensionTestsPath: testsModule });
  console.error(`[host] opening the workbench (${server.url}) with ${path.relative(ROOT, testsModule)}`);
  await page.goto(url);

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
    console.error(`[host] ${signal}: stopping`);
    writeSummary(SUITE, result?.passed ?? passingLine, Math.max(1, result?.failed ?? failingLine));
    await cleanup();
    process.exit(130);
  });
}

try {
  const code = await main();
  const passed = result?.passed ?? passingLine;
  let failed = result?.failed ?? failingLine;
  if (!result) console.error(`[host] no ${MARKER} line from the tests; using mocha's summary lines`);
  if (code !== 0 && failed === 0) {
    console.error(`[host] the workbench reported exit code ${code} without failing tests (run() rejected or the tests module did not load)`);
    failed = 1;
  }
  if (passed + failed === 0) {
    console.error('[host] no tests ran');
    failed = 1;
  }
  if (!result) console.error(`[host] last lines of ${path.relative(ROOT, WORKBENCH_LOG)}:\n${tail(WORKBENCH_LOG, 30)}`);
  writeSummary(SUITE, passed, failed);
  exitCode = failed > 0 ? 1 : 0;
  console.log(`host: ${passed} passed, ${failed} failed (${((Date.now() - started) / 1000).toFixed(1)} s)`);
} catch (err) {
  console.error(`[host] ERROR: ${err instanceof Error ? err.message : err}`);
  if (existsSync(WORKBENCH_LOG) && statSync(WORKBENCH_LOG).size > 0) console.error(`[host] last lines of ${path.relative(ROOT, WORKBENCH_LOG)}:\n${tail(WORKBENCH_LOG, 30)}`);
  const passed = result?.passed ?? passingLine;
  const failed = Math.max(1, result?.failed ?? failingLine);
  writeSummary(SUITE, passed, failed);
  console.log(`host: ${passed} passed, ${failed} failed`);
} finally {
  await cleanup();
}
process.exit(exitCode);
