// @ts-check
// "Lifeboat: Verify Backups" from the palette on the lab (issue 8): the quick verification runs with a
// progress notification, the Markdown report opens, and the Problems panel lists the corrupt archive of
// nextcloud 122 and the never-backed-up sandbox 202 on their terraform.tfvars lines.
// Screenshots: test-results/ui-lab-verify-report.png, test-results/ui-lab-verify-problems.png
import assert from 'node:assert/strict';
import { openLifeboat, until } from './lib.mjs';

export const timeout = 420_000;

/** @param {{ page: import('playwright-core').Page, open: () => Promise<void>, screenshot: (name: string) => Promise<string> }} t */
export async function run({ page, open, screenshot }) {
  await open();
  await openLifeboat(page);
  const input = page.locator('.quick-input-widget input');
  const command = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Verify Backups' }).first();
  for (let attempt = 0; ; attempt++) {
    await page.keyboard.press('F1');
    await input.waitFor({ timeout: 15_000 });
    await input.fill('>Lifeboat: Verify Backups');
    try {
      await command.waitFor({ timeout: 5_000 });
      break;
    } catch (err) {
      if (attempt >= 8) throw err;
      await page.keyboard.press('Escape');
      await page.waitForTimeout(2_000);
    }
  }
  await page.keyboard.press('Enter');
  // Quick or full: quick.
  await page.locator('.quick-input-list .monaco-list-row', { hasText: /^Quick/ }).first().waitFor({ timeout: 30_000 });
  await input.fill('Quick');
  await page.waitForTimeout(300);
  await page.keyboard.press('Enter');

  // The report document opens when the verification ends.
  const tab = page.locator('.tabs-container .tab', { hasText: /verify-backups\.md/ }).first();
  await tab.waitFor({ timeout: 360_000 });
  await page.waitForTimeout(1_000);
  await screenshot('verify-report');

  await page.keyboard.press('Control+Shift+M');
  const problems = page.locator('.markers-panel');
  await problems.waitFor({ timeout: 30_000 });
  const text = await until(async () => {
    const t = (await problems.innerText()).replace(/\s+/g, ' ');
    return /CORRUPT/.test(t) && /sandbox \(202\) has never been backed up/.test(t) ? t : undefined;
  }, 60_000, 'the corrupt archive and the never-backed-up guest in the Problems panel');
  assert.match(text, /vzdump-qemu-122-\S+\.vma\.zst of nextcloud \(122\) is CORRUPT/);
  assert.match(text, /terraform\.tfvars/);
  await page.waitForTimeout(800);
  await screenshot('verify-problems');
}
