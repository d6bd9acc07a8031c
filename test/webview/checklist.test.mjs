#!/usr/bin/env node
// @ts-check
// The runbook checklist webview in headless Chromium: dist/webview.js loaded in a blank page with a
// stub acquireVsCodeApi; ToWebview messages in, DOM and posted ToHost messages asserted.
// Usage: npm run build && node test/webview/checklist.test.mjs
// Writes { suite: 'webview', passed, failed } to $TEST_SUMMARY or test-results/webview.json.
/* global window, document */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BUNDLE = path.join(ROOT, 'dist/webview.js');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** The model as the host sends it: from the CLI's JSON (the same parser). */
function model(rel) {
  const json = JSON.parse(execFileSync(process.execPath, [path.join(ROOT, 'dist/cli.js'), 'runbook', path.join(ROOT, rel), '--json'], { encoding: 'utf8' }));
  delete json.file;
  return json;
}

const LABEL_KEYS = ['runAll', 'runStep', 'run', 'runWithLifeboat', 'stop', 'retry', 'skip', 'markDone', 'reopen', 'exportReport', 'newRun',
  'elapsed', 'rtoTarget', 'noRto', 'estimate', 'notStarted', 'prerequisites', 'checklist', 'commands', 'expected',
  'warning', 'output', 'changed', 'restricted', 'pending', 'running', 'done', 'failed', 'skipped', 'doneManually',
  'destructive', 'noSteps', 'exitCode', 'retries', 'skipReason', 'overEstimate', 'placeholders', 'openSource', 'limits', 'partlyRun'];
const labels = Object.fromEntries(LABEL_KEYS.map((k) => [k, `«${k}»`]));
labels.run = 'Run';
labels.retry = 'Retry';

function session(runbook, over = {}) {
  return { runbook, path: 'docs/DISASTER-RECOVERY.md', trusted: true, lifeboatCommands: ['lifeboat.restoreGuest'], labels, limits: [], reasons: {}, ...over };
}

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

/** A fresh page with the stub API and the bundle; returns helpers. */
async function open(browser) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.setContent('<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><main id="app"></main></body></html>');
  await page.evaluate(() => {
    const w = /** @type {any} */ (window);
    w.__posted = [];
    w.__state = undefined;
    w.acquireVsCodeApi = () => ({
      postMessage: (/** @type {unknown} */ m) => w.__posted.push(JSON.parse(JSON.stringify(m))),
      getState: () => w.__state,
      setState: (/** @type {unknown} */ st) => { w.__state = st; },
    });
  });
  await page.addScriptTag({ path: BUNDLE });
  const send = (msg) => page.evaluate((m) => window.postMessage(m, '*'), msg);
  const posted = () => page.evaluate(() => /** @type {any} */ (window).__posted);
  const settle = () => page.waitForTimeout(50);
  return { page, send, posted, settle, errors };
}

const now = new Date('2026-11-23T03:20:00Z');
const iso = (min) => new Date(now.getTime() + min * 60_000).toISOString();

function logWith(runbook, steps) {
  const all = Object.fromEntries(runbook.steps.map((s) => [s.id, { status: 'pending', durationMs: 0, hash: s.hash, retries: 0, attempts: [], commands: {} }]));
  return { format: 'lifeboat-runbook-run/1', runbook: 'docs/DISASTER-RECOVERY.md', title: runbook.title, startedAt: iso(-30), steps: { ...all, ...steps }, checks: {} };
}

const dr = model('test/fixtures/homelab/docs/DISASTER-RECOVERY.md');

test('posts ready first, and nothing else before a session', async (b) => {
  const { posted } = await open(b);
  assert.deepEqual(await posted(), [{ type: 'ready' }]);
});

test('renders the five steps with estimates, RTO, commands, checkboxes, warnings and tables, as text', async (b) => {
  const { page, send, settle, errors } = await open(b);
  await send({ type: 'session', session: session(dr), log: null, changed: [], failures: {}, busy: null, now: now.toISOString() });
  await settle();
  const steps = page.locator('li.step');
  assert.equal(await steps.count(), 5);
  assert.match(await page.locator('.runbook-title').textContent() ?? '', /Disaster recovery/);
  assert.match(await page.locator('.rto').textContent() ?? '', /45 min/);
  assert.deepEqual(await page.locator('.estimate').allTextContents(), [10, 5, 10, 15, 5].map((n) => `«estimate» ${n} min`));
  assert.equal(await page.locator('.command').count(), 10);
  assert.equal(await page.locator('vscode-checkbox').count(), 12);
  assert.equal(await page.locator('blockquote.warning').count(), 1);
  assert.equal(await page.locator('table.md-table tbody tr').count(), 4);
  assert.equal(await page.locator('.stopwatch').textContent(), '«notStarted»');
  assert.deepEqual(await page.evaluate(() => /** @type {any} */ (window).__state), { path: 'docs/DISASTER-RECOVERY.md' });
  assert.deepEqual(errors, []);
});

test('offers "Run with Lifeboat" only for registered commands with a complete mapping', async (b) => {
  const { page, send, settle } = await open(b);
  await send({ type: 'session', session: session(dr), log: null, changed: [], failures: {}, busy: null, now: now.toISOString() });
  await settle();
  // Only lifeboat.restoreGuest is registered: the four restore-vm.sh lines of step 4.
  assert.equal(await page.locator('vscode-button[data-action="runWithLifeboat"]').count(), 4);
  assert.equal(await page.locator('li.step').nth(3).locator('vscode-button[data-action="runWithLifeboat"]').count(), 4);
  const fr = model('test/fixtures/homelab/docs/RESTAURATION-PARTIELLE.md');
  await send({ type: 'session', session: session(fr), log: null, changed: [], failures: {}, busy: null, now: now.toISOString() });
  await settle();
  const stepA = page.locator('li.step').first();
  assert.equal(await stepA.locator('.command').nth(1).locator('vscode-button[data-action="runWithLifeboat"]').count(), 1);
  assert.equal(await stepA.locator('.command').nth(2).locator('vscode-button[data-action="runWithLifeboat"]').count(), 0, '--date has no Lifeboat equivalent');
});

test('clicks post typed messages: run a command, run a step, run all, check an item, export', async (b) => {
  const { page, send, settle, posted } = await open(b);
  await send({ type: 'session', session: session(dr), log: null, changed: [], failures: {}, busy: null, now: now.toISOString() });
  await settle();
  const step4 = dr.steps[3];
  await page.locator('li.step').nth(3).locator('.command').first().locator('vscode-button[data-action="run"]').click();
  await page.locator('li.step').nth(3).locator('.command').first().locator('vscode-button[data-action="runWithLifeboat"]').click();
  await page.locator('li.step').nth(0).locator('vscode-button[data-action="runStep"]').click();
  await page.locator('.toolbar vscode-button[data-action="runAll"]').click();
  await page.locator('li.step').nth(2).locator('vscode-checkbox').first().click();
  await page.locator('.toolbar vscode-button[data-action="exportReport"]').click();
  await settle();
  const msgs = (await posted()).slice(1);
  assert.deepEqual(msgs, [
    { type: 'runCommand', stepId: step4.id, commandId: step4.commands[0].id, via: 'shell' },
    { type: 'runCommand', stepId: step4.id, commandId: step4.commands[0].id, via: 'lifeboat' },
    { type: 'runStep', stepId: dr.steps[0].id },
    { type: 'runRemaining' },
    { type: 'check', itemId: dr.steps[2].checklist[0].id, checked: true },
    { type: 'exportReport' },
  ]);
});

test('keyboard: Tab reaches a Run button and Enter activates it', async (b) => {
  const { page, send, settle, posted } = await open(b);
  await send({ type: 'session', session: session(dr), log: null, changed: [], failures: {}, busy: null, now: now.toISOString() });
  await settle();
  const runAll = page.locator('.toolbar vscode-button[data-action="runAll"]');
  await runAll.focus();
  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => document.activeElement?.getAttribute('data-action'));
  assert.equal(focused, 'stop');
  await page.keyboard.press('Space');
  await settle();
  assert.deepEqual((await posted()).slice(1).map((m) => m.type), ['runRemaining', 'stop']);
});

test('state: a done step with its time, a failed step with output and Retry / Skip / Mark done; busy disables Run', async (b) => {
  const { page, send, settle, posted } = await open(b);
  await send({ type: 'session', session: session(dr), log: null, changed: [], failures: {}, busy: null, now: now.toISOString() });
  const [s1, s2] = dr.steps;
  const failedCmd = s2.commands[0];
  const log = logWith(dr, {
    [s1.id]: { status: 'done', startedAt: iso(-30), endedAt: iso(-18), durationMs: 12 * 60_000, hash: s1.hash, retries: 0, attempts: [], commands: {} },
    [s2.id]: { status: 'failed', startedAt: iso(-18), endedAt: iso(-17), durationMs: 60_000, hash: s2.hash, retries: 0, attempts: [], failure: { reason: 'commandFailed', command: failedCmd.text, exitCode: 2 },
      commands: { [failedCmd.id]: { status: 'failed', via: 'shell', text: failedCmd.text, startedAt: iso(-18), endedAt: iso(-17), exitCode: 2, outputTail: 'mc: <ERROR> bucket not found\n' } } },
  });
  await send({ type: 'state', log, changed: [dr.steps[2].id], failures: { [s2.id]: `«\`${failedCmd.text}\` a échoué (code 2)»` }, busy: null, now: now.toISOString() });
  await settle();
  const one = page.locator('li.step').nth(0);
  const two = page.locator('li.step').nth(1);
  assert.equal(await one.getAttribute('data-status'), 'done');
  assert.equal(await one.locator('.time').textContent(), '12:00');
  assert.equal(await one.locator('.time').getAttribute('data-over'), 'true', '12 min against an estimate of 10');
  assert.equal(await two.getAttribute('data-status'), 'failed');
  assert.equal(await two.locator('.output').first().textContent(), 'mc: <ERROR> bucket not found\n');
  assert.equal(await two.locator('.failure').textContent(), `«${failedCmd.text} a échoué (code 2)»`, 'the reason the host translated');
  assert.equal(await two.locator('.failure code').textContent(), failedCmd.text, 'with the command as code');
  assert.equal(await page.locator('script').count(), 1, 'the output is text, no element was created from it');
  assert.match(await two.locator('.exit').first().textContent() ?? '', /2/);
  assert.deepEqual(await two.locator('.step-actions vscode-button').evaluateAll((els) => els.map((e) => e.getAttribute('data-action'))), ['retry', 'skip', 'markDone']);
  assert.equal(await page.locator('li.step').nth(2).locator('.changed').isVisible(), true);
  assert.equal(await one.locator('vscode-button[data-action="run"]').first().getAttribute('disabled'), '', 'a done step is reopened before its commands run again');
  assert.equal(await two.locator('vscode-button[data-action="run"]').first().getAttribute('disabled'), null);
  assert.equal(await page.locator('.stopwatch').textContent(), '30:00');
  await two.locator('vscode-button[data-action="retry"]').click();
  await two.locator('vscode-button[data-action="skip"]').click();
  await settle();
  assert.deepEqual((await posted()).slice(-2), [{ type: 'retry', stepId: s2.id }, { type: 'skip', stepId: s2.id }]);

  await send({ type: 'output', stepId: s2.id, commandId: failedCmd.id, text: '', reset: true });
  await send({ type: 'output', stepId: s2.id, commandId: failedCmd.id, text: 'line 1\n<img src=x onerror=alert(1)>\n' });
  await send({ type: 'state', log, changed: [], failures: {}, busy: { stepId: s2.id, commandId: failedCmd.id, sequence: false }, now: now.toISOString() });
  await settle();
  assert.equal(await two.locator('.output').first().textContent(), 'line 1\n<img src=x onerror=alert(1)>\n');
  assert.equal(await page.locator('img').count(), 0);
  const disabled = await page.locator('vscode-button[data-action="run"]').evaluateAll((els) => els.every((e) => e.hasAttribute('disabled')));
  assert.equal(disabled, true, 'nothing else can start while a command runs');
  const before = (await posted()).length;
  await page.locator('li.step').nth(4).locator('vscode-button[data-action="run"]').click({ force: true });
  await settle();
  assert.equal((await posted()).length, before);
});

test('the stopwatch counts from the first attempt of a retried step, as the report does', async (b) => {
  const { page, send, settle } = await open(b);
  await send({ type: 'session', session: session(dr), log: null, changed: [], failures: {}, busy: null, now: now.toISOString() });
  const [s1] = dr.steps;
  // Failed at -33 min, retried at -3 min, done now: the recovery took 33 minutes, not 3.
  const log = logWith(dr, {
    [s1.id]: { status: 'done', startedAt: iso(-3), endedAt: iso(0), durationMs: 5 * 60_000, hash: s1.hash, retries: 1,
      attempts: [{ status: 'failed', startedAt: iso(-33), endedAt: iso(-31), failedCommand: 'x', exitCode: 1 }], commands: {} },
  });
  await send({ type: 'state', log: { ...log, endedAt: iso(0) }, changed: [], failures: {}, busy: null, now: now.toISOString() });
  await settle();
  assert.equal(await page.locator('.stopwatch').textContent(), '33:00');
  assert.equal(await page.locator('.stopwatch').getAttribute('data-over'), 'false', '33 min against an RTO of 45');
  assert.equal(await page.locator('li.step').first().locator('.time').textContent(), '05:00');
});

test('a step partly run command by command: Run step (the rest), Skip and Mark done; none while one of its commands runs', async (b) => {
  const { page, send, settle, posted } = await open(b);
  await send({ type: 'session', session: session(dr), log: null, changed: [], failures: {}, busy: null, now: now.toISOString() });
  const s2 = dr.steps[1];
  const [c1, c2] = s2.commands;
  const log = logWith(dr, {
    [s2.id]: { status: 'running', startedAt: iso(-5), durationMs: 0, hash: s2.hash, retries: 0, attempts: [],
      commands: { [c1.id]: { status: 'done', via: 'shell', text: c1.text, startedAt: iso(-5), endedAt: iso(-4), exitCode: 0, outputTail: 'v1\nv2\n' } } },
  });
  await send({ type: 'state', log, changed: [], failures: {}, busy: null, now: now.toISOString() });
  await settle();
  const two = page.locator('li.step').nth(1);
  assert.equal(await two.locator('.status').textContent(), '«partlyRun»');
  assert.deepEqual(await two.locator('.step-actions vscode-button').evaluateAll((els) => els.map((e) => e.getAttribute('data-action'))), ['runStep', 'skip', 'markDone']);
  await two.locator('.step-actions vscode-button[data-action="runStep"]').click();
  await two.locator('.step-actions vscode-button[data-action="markDone"]').click();
  await settle();
  assert.deepEqual((await posted()).slice(-2), [{ type: 'runStep', stepId: s2.id }, { type: 'markDone', stepId: s2.id }]);

  const executing = { ...log, steps: { ...log.steps, [s2.id]: { ...log.steps[s2.id], commands: { ...log.steps[s2.id].commands, [c2.id]: { status: 'running', via: 'shell', text: c2.text, startedAt: iso(0), outputTail: '' } } } } };
  await send({ type: 'state', log: executing, changed: [], failures: {}, busy: { stepId: s2.id, commandId: c2.id, sequence: false }, now: now.toISOString() });
  await settle();
  assert.equal(await two.locator('.status').textContent(), '«running»');
  const enabled = await two.locator('.step-actions vscode-button').evaluateAll((els) => els.filter((e) => !e.hasAttribute('disabled')).length);
  assert.equal(enabled, 0, 'nothing to click on the step while its command runs (Stop is in the toolbar)');
});

test('shows the limits the host translated', async (b) => {
  const { page, send, settle } = await open(b);
  await send({ type: 'session', session: session(dr, { limits: ['«« Step Two » (ligne 15) est lue comme une partie de l’étape 2.»'] }), log: null, changed: [], failures: {}, busy: null, now: now.toISOString() });
  await settle();
  assert.deepEqual(await page.locator('.limits').allTextContents(), ['«limits»: «« Step Two » (ligne 15) est lue comme une partie de l’étape 2.»']);
});

test('says why a command asks first in the words the host translated; a command\'s own word as written', async (b) => {
  const { page, send, settle } = await open(b);
  const guests = dr.steps[3];
  const marked = { ...dr, steps: dr.steps.map((s) => (s === guests ? { ...s, commands: s.commands.map((c, i) => (i === 0 ? { ...c, destructive: 'restore' } : c)) } : s)) };
  await send({ type: 'session', session: session(marked, { reasons: { restore: '«une restauration»' } }), log: null, changed: [], failures: {}, busy: null, now: now.toISOString() });
  await settle();
  const tags = await page.locator('.tag.destructive').allTextContents();
  assert.ok(tags.includes('«destructive» («une restauration»)'), JSON.stringify(tags));
  assert.ok(tags.includes('«destructive» (restore-vm.sh)'), JSON.stringify(tags));
});

test('Restricted Mode: Run buttons are disabled and say why', async (b) => {
  const { page, send, settle, posted } = await open(b);
  await send({ type: 'session', session: session(dr, { trusted: false }), log: null, changed: [], failures: {}, busy: null, now: now.toISOString() });
  await settle();
  assert.equal(await page.locator('.restricted').textContent(), '«restricted»');
  await page.locator('vscode-button[data-action="run"]').first().click({ force: true });
  await settle();
  assert.deepEqual(await posted(), [{ type: 'ready' }]);
});

test('a hostile runbook renders as text and runs nothing', async (b) => {
  const { page, send, settle, errors } = await open(b);
  const hostile = model('test/fixtures/runbooks/hostile.md');
  await send({ type: 'session', session: session(hostile), log: null, changed: [], failures: {}, busy: null, now: now.toISOString() });
  await settle();
  assert.match(await page.locator('.runbook-title').textContent() ?? '', /<script>window.__pwned = true<\/script>/);
  assert.equal(await page.evaluate(() => /** @type {any} */ (window).__pwned), undefined);
  assert.equal(await page.locator('script').count(), 1);
  assert.equal(await page.locator('img, iframe, b, div[onclick]').count(), 0);
  assert.deepEqual(errors, []);
});

test('ignores malformed messages', async (b) => {
  const { page, send, settle, errors } = await open(b);
  await send(null);
  await send({ nope: 1 });
  await send('session');
  await settle();
  assert.equal(await page.locator('li.step').count(), 0);
  assert.deepEqual(errors, []);
});

async function main() {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run npm run build first`);
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  let passed = 0;
  let failed = 0;
  console.log('\n  runbook checklist webview (headless Chromium)');
  try {
    for (const t of tests) {
      try {
        await Promise.race([t.fn(browser), new Promise((_, reject) => setTimeout(() => reject(new Error('timed out after 30 s')), 30_000))]);
        passed++;
        console.log(`    ✔ ${t.name}`);
      } catch (err) {
        failed++;
        console.log(`    ✖ ${t.name}\n      ${String(err instanceof Error ? err.stack ?? err.message : err).split('\n').join('\n      ')}`);
      }
    }
  } finally {
    await browser.close();
  }
  return { passed, failed };
}

let result = { passed: 0, failed: 1 };
try {
  result = await main();
} catch (err) {
  console.error(err);
}
const summary = process.env.TEST_SUMMARY ? path.resolve(process.env.TEST_SUMMARY) : path.join(ROOT, 'test-results', 'webview.json');
mkdirSync(path.dirname(summary), { recursive: true });
writeFileSync(summary, JSON.stringify({ suite: 'webview', passed: result.passed, failed: result.failed }) + '\n');
console.log(`\nwebview: ${result.passed} passed, ${result.failed} failed`);
process.exitCode = result.failed === 0 && result.passed > 0 ? 0 : 1;
