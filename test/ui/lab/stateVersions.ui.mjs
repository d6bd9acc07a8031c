// @ts-check
// Terraform state recovery in the real workbench, on the lab's S3 server: prod → Terraform state
// expanded to its versions (newest first, the current one marked, serial and resource count, the
// seeded invalid version flagged); the state node's menu offers Fall Back, not Return (prod is on
// S3); then "Compare with Current" on an older version opens the native diff editor titled with the
// resource counts, and the notification's "Show Resource Summary" opens the addresses added,
// removed and changed as a Markdown document in a tab next to the diff's. Nothing is written to S3.
// Screenshots: test-results/ui-lab-state-versions.png, ui-lab-state-menu.png, ui-lab-state-diff.png,
// ui-lab-state-diff-summary.png
import assert from 'node:assert/strict';
import { chooseMenuItem, expand, openLifeboat, rows, settledScreenshot, toast, until, widenSidebar } from './lib.mjs';

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
  await settledScreenshot(page, screenshot, 'state-versions');

  for (const v of versions) assert.match(v.label, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/, `version label ${v.label}`);
  const current = versions.filter((v) => /\bcurrent\b/.test(v.description));
  assert.equal(current.length, 1, `exactly one current version: ${JSON.stringify(versions.map((v) => v.description))}`);
  assert.match(current[0].description, /serial \d+ · \d+ resources · (≠ nodes · )?current$/, current[0].description);
  assert.ok(versions.some((v) => /INVALID/.test(v.description) && /codicon-error/.test(v.icon)), `the seeded invalid version is flagged: ${JSON.stringify(versions.map((v) => [v.description, v.icon]))}`);
  const labels = versions.map((v) => v.label);
  assert.deepEqual(labels, [...labels].sort().reverse(), 'newest first');
  assert.ok(!versions.some((v) => /not read yet/.test(v.description)), 'every shown version was read');

  // prod is on S3: its state node offers Fall Back, and not Return.
  await page.locator('.part.sidebar .monaco-list-row').filter({ hasText: 'Terraform state' }).first().click({ button: 'right' });
  await page.locator('.monaco-menu .action-item', { hasText: 'Fall Back to Local Backend…' }).first().waitFor({ timeout: 15_000 });
  const menu = await page.locator('.monaco-menu .action-label').allInnerTexts();
  await page.waitForTimeout(500);
  await screenshot('state-menu');
  assert.ok(menu.some((m) => m.includes('Fall Back to Local Backend…')), JSON.stringify(menu));
  assert.ok(!menu.some((m) => m.includes('Return to S3 Backend…')), `Return is not offered on S3: ${JSON.stringify(menu)}`);
  await page.keyboard.press('Escape');

  // An older, valid version: compare it with the current one.
  // Preferably one with another resource count (the seeded version that lost a guest), so the summary lists an address.
  const resources = (/** @type {string} */ d) => /(\d+) resources/.exec(d)?.[1];
  const valid = versions.filter((v) => !/current|INVALID/.test(v.description) && /serial \d+/.test(v.description));
  const older = valid.find((v) => resources(v.description) !== resources(current[0].description)) ?? valid[0];
  assert.ok(older, 'an older valid version');
  const serial = /serial \d+/.exec(older.description)?.[0] ?? '';
  const olderRow = page.locator('.part.sidebar .monaco-list-row').filter({ hasText: older.label }).filter({ hasText: new RegExp(`${serial} ·`) }).first();
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
  assert.match(tab, /prod state: .* ↔ .* \(\+\d+ −\d+ ~\d+\)/, `diff editor tab: ${tab}`);

  // The addresses themselves, readable: the summary document beside the diff.
  await summary.getByRole('button', { name: 'Show Resource Summary' }).click();
  const doc = page.locator('.editor-instance .view-lines').filter({ hasText: /##\s+Added/ }).first();
  await doc.waitFor({ timeout: 30_000 });
  await page.waitForTimeout(1000);
  await screenshot('state-diff-summary');
  // The editor renders spaces as no-break spaces, and wraps long lines beside the diff.
  const textOfDoc = (await doc.innerText()).replace(/\s+/g, ' ');
  assert.match(textOfDoc, /# prod state: .* → /, textOfDoc);
  for (const heading of ['## Added', '## Removed']) assert.ok(textOfDoc.includes(heading), `${heading} in ${textOfDoc}`);
  // Markdown wraps long addresses: compare without the line breaks.
  if (resources(older.description) !== resources(current[0].description)) assert.match(textOfDoc.replace(/ /g, ''), /##Added\(in.*\)-`module\.\w+\["[\w-]+"\]\.proxmox_virtual_environment_\w+\.this`##Removed/, textOfDoc);
  // The diff is still open in its own tab.
  assert.ok(await page.locator('.tabs-container .tab').filter({ hasText: /↔/ }).count() >= 1, 'the diff tab stays');
}
