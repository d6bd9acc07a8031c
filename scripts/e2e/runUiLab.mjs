#!/usr/bin/env node
// @ts-check
// The UI tests on the simulated homelab (test/ui/lab/*.ui.mjs): playwright-core in Debian's headless
// Chromium against a real VS Code workbench (code-server) opened on .lab/workspace, the server started
// with the lab's environment (.lab/env, PATH with .lab/bin first: scripts/e2e/labEnv.mjs) so that the
// extension host reaches the lab's nodes. The lab is reused when it runs, otherwise started for this
// run and stopped at its end.
//
// The extension is installed from a .vsix on a server started normally, so notification toasts and
// modal dialogs behave as for an operator (driver mode hides toasts; the restore test needs them).
//   default        ./lifeboat.vsix (`npm run package`; scripts/test.mjs packages it before the UI suites)
//   --vsix <file>  another .vsix
//   --package      package the current build (dist/, as built by `npm run build`) into
//                  .vscode-e2e/ui-lab/lifeboat.vsix first, without touching dist/ or ./lifeboat.vsix
//   --dev          development extension in driver mode (no toasts: tests that need one fail)
//
// Usage: node scripts/e2e/runUiLab.mjs [--package | --vsix <file> | --dev] [name-filter...]
// Writes test-results/ui-lab.json ({ suite, passed, failed }, or $TEST_SUMMARY) and screenshots
// test-results/ui-lab-*.png; exits 0 only if tests ran and all passed.
//
// A test is a module test/ui/lab/<name>.ui.mjs exporting
//   async function run({ page, baseUrl, workspace, screenshot, open, mode, lab })
// as for runUi.mjs (screenshot(name) saves test-results/ui-lab-<name>.png), plus
//   - lab: { env, ssh(node, command), guests(node) } (scripts/e2e/labEnv.mjs)
// It passes if run() resolves; `export const timeout = ms` (default 240 s). Tests run in name order,
// each in a fresh browser context on the same server.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { E2E_HOME, ROOT, launchChromium, startCodeServer, workbenchUrl, writeSummary } from './codeServer.mjs';
import { ensureE2eLab } from './labEnv.mjs';

const SUITE = 'ui-lab';
const RESULTS = path.join(ROOT, 'test-results');
const TESTS = path.join(ROOT, 'test/ui/lab');

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    dev: { type: 'boolean', default: false },
    package: { type: 'boolean', default: false },
    vsix: { type: 'string' },
  },
});

let passed = 0;
let failed = 0;
/** @type {(() => Promise<void>)[]} */
const cleanups = [];
/** @type {Promise<void> | undefined} */
let cleaning;
function cleanup() {
  cleaning ??= (async () => {
    for (const fn of cleanups.splice(0).reverse()) {
      try { await fn(); } catch (err) { console.error(`[ui-lab] cleanup: ${err}`); }
    }
  })();
  return cleaning;
}

/** @returns {{ mode: 'vsix' | 'dev', vsix?: string }} */
function chooseMode() {
  if (values.dev) return { mode: 'dev' };
  if (values.package) {
    const out = path.join(E2E_HOME, 'ui-lab/lifeboat.vsix');
    mkdirSync(path.dirname(out), { recursive: true });
    if (!existsSync(path.join(ROOT, 'dist/extension.js'))) throw new Error('dist/extension.js is missing (npm run build)');
    console.error(`[ui-lab] packaging the current build into ${path.relative(ROOT, out)}`);
    const vsce = path.join(ROOT, 'node_modules/.bin/vsce');
    const r = spawnSync(vsce, ['package', '--no-dependencies', '--out', out], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 180_000 });
    if (r.status !== 0) throw new Error(`vsce package failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
    return { mode: 'vsix', vsix: out };
  }
  const vsix = path.resolve(values.vsix ?? path.join(ROOT, 'lifeboat.vsix'));
  if (!existsSync(vsix)) throw new Error(`${vsix} does not exist: run \`npm run package\`, or pass --package (current build) or --dev`);
  const bundle = path.join(ROOT, 'dist/extension.js');
  if (existsSync(bundle) && statSync(bundle).mtimeMs > statSync(vsix).mtimeMs) {
    console.error(`[ui-lab] note: ${path.basename(vsix)} is older than dist/extension.js; run \`npm run package\` (or pass --package) to test the current code`);
  }
  return { mode: 'vsix', vsix };
}

/** @param {Promise<unknown>} promise @param {number} ms @param {string} what */
function withTimeout(promise, ms, what) {
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms / 1000} s`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

async function main() {
  const tests = readdirSync(TESTS)
    .filter((f) => f.endsWith('.ui.mjs'))
    .filter((f) => positionals.length === 0 || positionals.some((p) => f.includes(p)))
    .sort();
  if (tests.length === 0) throw new Error(`no test/ui/lab/*.ui.mjs matched ${positionals.join(' ') || '(all)'}`);

  const { mode, vsix } = chooseMode();
  if (mode === 'dev' && !existsSync(path.join(ROOT, 'dist/extension.js'))) throw new Error('dist/extension.js is missing (npm run build)');
  const lab = await ensureE2eLab();
  const workspace = lab.workspace;
  console.error(`[ui-lab] extension: ${mode === 'vsix' ? `installed from ${path.relative(ROOT, /** @type {string} */ (vsix))}` : `development extension ${ROOT} (driver mode: no toasts)`}`);

  const server = await startCodeServer({ name: SUITE, workspace, driverMode: mode === 'dev', env: lab.env, ...(vsix ? { vsix } : {}) });
  cleanups.push(server.stop);
  const browser = await launchChromium({ name: SUITE });
  cleanups.push(() => browser.close());

  for (const file of tests) {
    const name = file.replace(/\.ui\.mjs$/, '');
    const t0 = Date.now();
    const context = await browser.newContext({ viewport: { width: 1400, height: 850 } });
    const page = await context.newPage();
    /** @param {string} shot */
    const screenshot = async (shot) => {
      const target = path.join(RESULTS, `ui-lab-${shot}.png`);
      mkdirSync(RESULTS, { recursive: true });
      await page.screenshot({ path: target });
      return target;
    };
    const open = async (folder = workspace) => {
      const url = mode === 'dev'
        ? workbenchUrl(server.url, { folder, extensionDevelopmentPath: ROOT })
        : workbenchUrl(server.url, { folder });
      // A loaded machine (2 cores shared with other suites) can take long to serve the workbench.
      await page.goto(url, { timeout: 180_000 });
      await page.locator('.monaco-workbench').waitFor({ timeout: 120_000 });
    };
    try {
      const mod = await import(pathToFileURL(path.join(TESTS, file)).href);
      if (typeof mod.run !== 'function') throw new Error(`${file} does not export run()`);
      const timeout = typeof mod.timeout === 'number' ? mod.timeout : 240_000;
      await withTimeout(mod.run({ page, baseUrl: server.url, workspace, screenshot, open, mode, lab }), timeout, name);
      passed++;
      console.log(`  ✔ ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (err) {
      failed++;
      const shot = await screenshot(`${name}-failure`).catch(() => undefined);
      console.log(`  ✖ ${name}: ${err instanceof Error ? err.stack ?? err.message : err}`);
      if (shot) console.log(`    screenshot: ${path.relative(ROOT, shot)}`);
    } finally {
      await context.close().catch(() => {});
    }
  }
}

for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.once(signal, async () => {
    console.error(`[ui-lab] ${signal}: stopping`);
    writeSummary(SUITE, passed, Math.max(1, failed));
    await cleanup();
    process.exit(130);
  });
}

const started = Date.now();
try {
  await main();
} catch (err) {
  console.error(`[ui-lab] ERROR: ${err instanceof Error ? err.message : err}`);
  failed = Math.max(1, failed);
} finally {
  await cleanup();
}
if (passed + failed === 0) failed = 1;
writeSummary(SUITE, passed, failed);
console.log(`ui-lab: ${passed} passed, ${failed} failed (${((Date.now() - started) / 1000).toFixed(1)} s)`);
process.exit(failed > 0 ? 1 : 0);
