// @ts-check
// Terraform state recovery in the real workbench, on the lab's S3 server: prod → Terraform state
// expanded to its versions (newest first, the current one marked, serial and resource count, the
// seeded invalid version flagged), then "Compare with Current" on an older version opens the native
// diff editor with the resource-level summary in a notification. Nothing is written to S3.
// Screenshots: test-results/ui-lab-state-versions.png, test-results/ui-lab-state-diff.png
import assert from 'node:assert/strict';
import { chooseMenuItem, expand, openLifeboat, rows, toast, until, widenSidebar } from './lib.mjs';

export const timeout = 240_000;

/** @param {{ page: import('playwright-core').Page, open: () => Promise<void>, screenshot: (name: string) => Promise<string> }} t */
export async function run({ page, open, screenshot }) {
  await open();
  await openLifeboat(page);
  await widenSidebar(page, 820);
  await expand(page, 'prod');
  await expand(page, 'Terraform state');
  // The versions are listed from S3 (the credentials come from the lab's environment).
  const versions = await until(async () => {
    const all = await rows(page);
    const start = all.findIndex((r) => r.label === 'Terraform state');
    const children = all.slice(start + 1).filter((r) => r.level === all[start].level + 1);
    return children.length >= 5 && children.some((c) => /serial \d+/.test(c.description)) ? children : undefined;
  }, 90_000, 'the state versions of prod');
  await page.mouse.move(1300, 800);
  await page.waitForTimeout(800);
  await screenshot('state-versions');

  for (const v of versions) assert.match(v.label, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/, `version label ${v.label}`);
  const current = versions.filter((v) => /\bcurrent\b/.test(v.description));
  assert.equal(current.length, 1, `exactly one current version: ${JSON.stringify(versions.map((v) => v.description))}`);
  assert.match(current[0].description, /serial \d+ · \d+ resources · current$/, current[0].description);
  assert.ok(versions.some((v) => /INVALID/.test(v.description) && /codicon-error/.test(v.icon)), `the seeded invalid version is flagged: ${JSON.stringify(versions.map((v) => [v.description, v.icon]))}`);
  const labels = versions.map((v) => v.label);
  assert.deepEqual(labels, [...labels].sort().reverse(), 'newest first');

  // An older, valid version: compare it with the current one.
  const older = versions.find((v) => !/current|INVALID/.test(v.description) && /serial \d+/.test(v.description));
  assert.ok(older, 'an older valid version');
  const olderRow = page.locator('.part.sidebar .monaco-list-row').filter({ hasText: older.label }).filter({ hasText: older.description.split(' · ')[1] ?? '' }).first();
  await olderRow.click({ button: 'right' });
  await chooseMenuItem(page, 'Compare with Current');
  await page.locator('.monaco-diff-editor').first().waitFor({ timeout: 60_000 });
  const summary = toast(page, /added, \d+ removed, \d+ changed/);
  await summary.waitFor({ timeout: 60_000 });
  await page.waitForTimeout(1500);
  await screenshot('state-diff');
  const text = await summary.innerText();
  assert.match(text, /From \S+ to \S+: \d+ added, \d+ removed, \d+ changed, \d+ unchanged/, text);
  const tab = await page.locator('.tabs-container .tab.active').innerText();
  assert.match(tab, /prod state: .* ↔ /, `diff editor tab: ${tab}`);
}
