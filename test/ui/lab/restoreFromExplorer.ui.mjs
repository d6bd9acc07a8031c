// @ts-check
// A full restore from the UI, on the lab's k3s-test (VMID 201 on beta; the other suites use 121, 131,
// 132 and 921): right-click k3s-test in the Recovery explorer → "Restore from Newest Backup…" → the
// modal's "Overwrite and Restore" → the progress notification → the final notification → "Show
// Report" → the Markdown report opens. It must say Succeeded and name the backup and the safety point,
// which must exist on beta afterwards, and 201 must be running again.
// Screenshot: test-results/ui-lab-restore-report.png
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { chooseMenuItem, dialog, expand, openLifeboat, row, until } from './lib.mjs';

export const timeout = 420_000;

/**
 * @param {{ page: import('playwright-core').Page, open: () => Promise<void>, screenshot: (name: string) => Promise<string>,
 *           workspace: string, lab: import('../../../scripts/e2e/labEnv.mjs').E2eLab }} t
 */
export async function run({ page, open, screenshot, workspace, lab }) {
  const started = Date.now();
  const reportsDir = path.join(workspace, '.lifeboat/reports');

  await open();
  await openLifeboat(page);
  await expand(page, 'lab');
  await expand(page, 'beta');
  const k3s = row(page, 'k3s-test');
  await k3s.waitFor({ timeout: 120_000 });

  // The newest backup of 201 on beta before the restore: the one "Restore from Newest Backup…" must use.
  const stamp = (/** @type {string} */ v) => /-(\d{4}_\d{2}_\d{2}-\d{2}_\d{2}_\d{2})\./.exec(v)?.[1] ?? '';
  const volids = lab.ssh('beta', 'pvesm list local --vmid 201; pvesm list backups --vmid 201').split('\n')
    .map((l) => l.split(/\s+/)[0] ?? '').filter((v) => v.includes('vzdump-qemu-201-'));
  const newest = volids.sort((a, b) => stamp(b).localeCompare(stamp(a)))[0];
  assert.ok(newest, 'k3s-test has a backup on beta');

  await k3s.click({ button: 'right' });
  await chooseMenuItem(page, 'Restore from Newest Backup…');

  const box = dialog(page);
  await box.waitFor({ timeout: 120_000 });
  const plan = (await box.innerText()).replace(/\s+/g, ' ');
  assert.match(plan, /201/, plan);
  assert.match(plan, /qmrestore \S+ 201 .*--force 1/, `the plan's qmrestore command: ${plan}`);
  const accept = box.locator('.monaco-button', { hasText: /^Overwrite and Restore$/ });
  await accept.click();
  await box.waitFor({ state: 'detached', timeout: 15_000 });

  // The progress notification, then the final one (its "Show Report" button).
  const done = page.locator('.notifications-toasts .notification-toast').filter({ hasText: /done in \d+ s|FAILED|cancelled/ }).first();
  await done.waitFor({ timeout: 360_000 });
  const message = (await done.innerText()).replace(/\s+/g, ' ');
  assert.match(message, /done in \d+ s/, `final notification: ${message}`);
  await done.locator('.monaco-button', { hasText: 'Show Report' }).click();

  // The report opens as a Markdown editor.
  const tab = page.locator('.tabs-container .tab.active');
  await until(async () => /\.md\b/.test((await tab.getAttribute('aria-label')) ?? ''), 30_000, 'the report as the active editor');
  await page.mouse.move(1300, 820);
  await page.waitForTimeout(1500);
  await screenshot('restore-report');

  // The report that opened (its tab), as saved under .lifeboat/reports.
  const activeTitle = (await tab.getAttribute('aria-label')) ?? '';
  const name = /([\w.-]+\.md)\b/.exec(activeTitle)?.[1] ?? '';
  const saved = readdirSync(reportsDir).filter((f) => f === name);
  assert.equal(saved.length, 1, `the opened report (tab "${activeTitle}") is in ${reportsDir}`);
  const file = path.join(reportsDir, name);
  assert.ok(statSync(file).mtimeMs >= started, `${file} was written by this run`);
  assert.match(name, /restore-201-/, name);
  const report = readFileSync(file, 'utf8');
  assert.match(report.split('\n')[0] ?? '', /— Succeeded$/, `first line: ${report.split('\n')[0]}`);
  const backup = /^- Backup: `(\S+vzdump-qemu-201-\S+)/m.exec(report)?.[1];
  assert.equal(backup, newest, `the report names the newest backup:\n${report}`);
  const safety = /^- Safety point: `(\S+:backup\/vzdump-qemu-201-\S+)`/m.exec(report)?.[1];
  assert.ok(safety, `the report names the safety point's volid:\n${report}`);
  const storage = safety.split(':')[0];
  assert.ok(lab.ssh('beta', `pvesm list ${storage} --vmid 201`).includes(safety), `${safety} exists on beta`);
  const k3sNow = await until(async () => {
    const g = lab.guests('beta').find((x) => x.vmid === 201);
    return g?.status === 'running' ? g : undefined;
  }, 60_000, '201 running on beta');
  assert.equal(k3sNow.status, 'running');
}
