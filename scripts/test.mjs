#!/usr/bin/env node
// The one test command (`npm test`): installs what is missing, runs every suite, and ends with one
// line `N passed, N failed` summing them all. Suites write test-results/<suite>.json
// ({ suite, passed, failed }); a suite that dies without writing it counts as one failure.
// Usage: npm test [-- --only unit,host]   (CI runs everything)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { readdirSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
process.chdir(root);
const only = (() => {
  const i = process.argv.indexOf('--only');
  return i > 0 ? new Set(process.argv[i + 1]?.split(',')) : undefined;
})();

const results = [];
const started = Date.now();

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } });
  return r.status ?? 1;
}

/** A check that is one test: passes when the command exits 0. */
function check(name, cmd, args, group = 'static') {
  if (only && !only.has(group)) return;
  console.log(`\n=== ${name}: ${[cmd, ...args].join(' ')}`);
  const code = run(cmd, args);
  results.push({ suite: name, passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1 });
}

/** A suite of many tests reporting through test-results/<name>.json. */
function suite(name, cmd, args, env = {}) {
  if (only && !only.has(name)) return;
  const summary = path.join(root, 'test-results', `${name}.json`);
  rmSync(summary, { force: true });
  console.log(`\n=== suite ${name}: ${[cmd, ...args].join(' ')}`);
  const t0 = Date.now();
  const code = run(cmd, args, { TEST_SUMMARY: summary, TEST_SUITE: name, ...env });
  let r;
  try {
    r = JSON.parse(readFileSync(summary, 'utf8'));
  } catch {
    r = { suite: name, passed: 0, failed: 1, note: `exited ${code} without a summary` };
  }
  if (code !== 0 && r.failed === 0) r = { ...r, failed: 1, note: `exited ${code}` };
  r.seconds = Math.round((Date.now() - t0) / 1000);
  results.push(r);
}

const hasFiles = (dir, suffix) => existsSync(dir) && readdirSync(dir, { recursive: true }).some((f) => String(f).endsWith(suffix));

mkdirSync('test-results', { recursive: true });
if (run('bash', ['scripts/setup.sh']) !== 0) {
  console.log('setup failed: the suites cannot run');
  console.log('0 passed, 1 failed');
  process.exit(1);
}

check('types', 'npm', ['run', '--silent', 'check-types']);
check('lint', 'npm', ['run', '--silent', 'lint']);
check('build', 'npm', ['run', '--silent', 'build']);
suite('unit', 'npx', ['mocha']);
if (existsSync('test/webview/checklist.test.mjs')) suite('webview', 'node', ['test/webview/checklist.test.mjs']);

// The simulated homelab serves the integration suite and the lab's host and UI suites; it is started
// once here (a fresh one: earlier runs may have changed it) and always stopped at the end.
const needsLab = !only || ['integration', 'host-lab', 'ui-lab'].some((x) => only.has(x));
let labUp = false;
if (needsLab) {
  console.log('\n=== lab up');
  labUp = run('npm', ['run', '--silent', 'lab', '--', 'up', '--time-scale', '0.02']) === 0;
  if (!labUp) results.push({ suite: 'lab-up', passed: 0, failed: 1, note: 'the simulated homelab did not start' });
}
try {
  if (labUp && hasFiles('test/integration', '.test.ts')) suite('integration', 'npx', ['mocha', '--config', '.mocharc.integration.json']);
  if (existsSync('scripts/e2e/runHost.mjs')) suite('host', 'node', ['scripts/e2e/runHost.mjs']);
  if (labUp && existsSync('scripts/e2e/runHostLab.mjs')) suite('host-lab', 'node', ['scripts/e2e/runHostLab.mjs']);
  if (existsSync('scripts/e2e/runUi.mjs')) {
    // The UI tests install the packaged extension: package it now so they never test a stale .vsix.
    check('package', 'npm', ['run', '--silent', 'package'], 'ui');
    suite('ui', 'node', ['scripts/e2e/runUi.mjs']);
  }
  if (labUp && existsSync('scripts/e2e/runUiLab.mjs')) suite('ui-lab', 'node', ['scripts/e2e/runUiLab.mjs']);
} finally {
  if (labUp) {
    console.log('\n=== lab down');
    run('npm', ['run', '--silent', 'lab', '--', 'down']);
  }
}

const passed = results.reduce((n, r) => n + r.passed, 0);
const failed = results.reduce((n, r) => n + r.failed, 0);
console.log('\n=== summary');
for (const r of results) console.log(`  ${r.suite.padEnd(12)} ${String(r.passed).padStart(4)} passed ${String(r.failed).padStart(3)} failed${r.seconds !== undefined ? `  ${r.seconds}s` : ''}${r.note ? `  (${r.note})` : ''}`);
console.log(`  total time ${Math.round((Date.now() - started) / 1000)}s`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || results.length === 0 ? 1 : 0);
