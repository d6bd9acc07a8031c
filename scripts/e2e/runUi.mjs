#!/usr/bin/env node
// @ts-check
// Runs the UI tests (test/ui/*.ui.mjs) with playwright-core in Debian's headless Chromium against a
// real VS Code workbench (code-server).
//
// The extension is installed from ./lifeboat.vsix when it exists (`npm run package`), on a server
// started normally (toasts work). Without a .vsix, or with --dev, the server runs in smoke-test-driver
// mode and the repository is loaded as a development extension through the `payload` URL
// (shared/reference/vscode-e2e.md §8; that mode does not show notification toasts).
//
// Usage: node scripts/e2e/runUi.mjs [--dev] [--vsix <file>] [--extension <dir>] [--workspace <dir>] [name-filter...]
//   --dev: load the extension folder (--extension, default this repository) instead of a .vsix
// Needs: scripts/e2e/setup.sh, then `npm run build` (and `npm run package` for the .vsix mode).
// Writes test-results/ui.json ({ suite, passed, failed }) and screenshots test-results/ui-*.png.
//
// A UI test is a module test/ui/<name>.ui.mjs exporting
//   async function run({ page, baseUrl, workspace, screenshot, open, mode })
//   - page:       a fresh playwright Page (its own browser context)
//   - baseUrl:    the server, e.g. http://127.0.0.1:41234
//   - workspace:  absolute path of the folder to open
//   - open(folder = workspace): navigates to the workbench for that folder (adds the development
//                 payload in --dev mode; always use it rather than building the URL) and waits for it
//   - screenshot(name): saves test-results/ui-<name>.png and returns its path
//   - mode:       'vsix' or 'dev'
// It passes if run() resolves. Each test gets `timeout` (default 120 s, `export const timeout = ms`).
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { ROOT, launchChromium, startCodeServer, workbenchUrl, writeSummary } from './codeServer.mjs';

const SUITE = 'ui';
const RESULTS = path.join(ROOT, 'test-results');

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    dev: { type: 'boolean', default: false },
    vsix: { type: 'string' },
    extension: { type: 'string', default: ROOT },
    workspace: { type: 'string', default: path.join(ROOT, 'test/fixtures/homelab') },
  },
});
const workspace = path.resolve(/** @type {string} */ (values.workspace));
const extensionDir = path.resolve(/** @type {string} */ (values.extension));

let passed = 0;
let failed = 0;
/** @type {(() => Promise<void>)[]} */
const cleanups = [];
/** @type {Promise<void> | undefined} */
let cleaning;
/** Stops the browser and code-server once; concurrent callers (signal handler, main path) share it. */
function cleanup() {
  cleaning ??= (async () => {
    for (const fn of cleanups.splice(0).reverse()) {
      try { await fn(); } catch (err) { console.error(`[ui] cleanup: ${err}`); }
    }
  })();
  return cleaning;
}

/** @returns {{ mode: 'vsix' | 'dev', vsix?: string }} */
function chooseMode() {
  if (values.dev || values.extension !== ROOT) return { mode: 'dev' };
  const vsix = path.resolve(values.vsix ?? path.join(ROOT, 'lifeboat.vsix'));
  if (!existsSync(vsix)) {
    if (values.vsix) throw new Error(`${vsix} does not exist`);
    return { mode: 'dev' };
  }
  const bundle = path.join(ROOT, 'dist/extension.js');
  if (existsSync(bundle) && statSync(bundle).mtimeMs > statSync(vsix).mtimeMs) {
    console.error(`[ui] note: ${path.basename(vsix)} is older than dist/extension.js; run \`npm run package\` to test the current code, or pass --dev`);
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
  const dir = path.join(ROOT, 'test/ui');
  const tests = readdirSync(dir)
    .filter((f) => f.endsWith('.ui.mjs'))
    .filter((f) => positionals.length === 0 || positionals.some((p) => f.includes(p)))
    .sort();
  if (tests.length === 0) throw new Error(`no test/ui/*.ui.mjs matched ${positionals.join(' ') || '(all)'}`);
  if (!existsSync(workspace)) throw new Error(`workspace ${workspace} does not exist`);

  const { mode, vsix } = chooseMode();
  if (mode === 'dev' && !existsSync(path.join(extensionDir, 'dist/extension.js'))) throw new Error(`${extensionDir}/dist/extension.js is missing (npm run build)`);
  console.error(`[ui] extension: ${mode === 'vsix' ? `installed from ${path.relative(ROOT, /** @type {string} */ (vsix))}` : `development extension ${extensionDir} (driver mode)`}`);

  const server = await startCodeServer({ name: SUITE, workspace, driverMode: mode === 'dev', ...(vsix ? { vsix } : {}) });
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
      const target = path.join(RESULTS, `ui-${shot}.png`);
      await page.screenshot({ path: target });
      return target;
    };
    const open = async (folder = workspace) => {
      const url = mode === 'dev'
        ? workbenchUrl(server.url, { folder, extensionDevelopmentPath: extensionDir })
        : workbenchUrl(server.url, { folder });
      await page.goto(url);
      await page.locator('.monaco-workbench').waitFor({ timeout: 30_000 });
    };
    try {
      const mod = await import(pathToFileURL(path.join(dir, file)).href);
      if (typeof mod.run !== 'function') throw new Error(`${file} does not export run()`);
      const timeout = typeof mod.timeout === 'number' ? mod.timeout : 120_000;
      await withTimeout(mod.run({ page, baseUrl: server.url, workspace, screenshot, open, mode }), timeout, name);
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
    console.error(`[ui] ${signal}: stopping`);
    writeSummary(SUITE, passed, Math.max(1, failed));
    await cleanup();
    process.exit(130);
  });
}

const started = Date.now();
try {
  await main();
} catch (err) {
  console.error(`[ui] ERROR: ${err instanceof Error ? err.message : err}`);
  failed = Math.max(1, failed);
} finally {
  await cleanup();
}
if (passed + failed === 0) failed = 1;
writeSummary(SUITE, passed, failed);
console.log(`ui: ${passed} passed, ${failed} failed (${((Date.now() - started) / 1000).toFixed(1)} s)`);
process.exit(failed > 0 ? 1 : 0);
