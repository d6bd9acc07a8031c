// @ts-check
// The Recovery explorer in a real workbench: clicking the Lifeboat activity-bar entry shows the
// Recovery view with one row per environment of the fixture (prod, lab, monitoring).
import assert from 'node:assert/strict';

const ENVIRONMENTS = ['lab', 'monitoring', 'prod'];

/** @param {{ page: import('playwright-core').Page, open: () => Promise<void>, screenshot: (name: string) => Promise<string> }} t */
export async function run({ page, open, screenshot }) {
  await open();

  const entry = page.locator('.activitybar [aria-label^="Lifeboat"]').first();
  try {
    await entry.waitFor({ timeout: 60_000 });
  } catch {
    const entries = await page.locator('.activitybar .action-item a[aria-label], .activitybar .action-label[aria-label]')
      .evaluateAll((els) => els.map((el) => el.getAttribute('aria-label')));
    throw new Error(`no "Lifeboat" entry in the activity bar; entries: ${JSON.stringify(entries)}`);
  }
  await entry.click();

  const sidebar = page.locator('.part.sidebar');
  await sidebar.locator('.composite.title').filter({ hasText: /lifeboat/i }).waitFor({ timeout: 15_000 });

  const rows = sidebar.locator('.monaco-list-row');
  const labels = async () =>
    rows.evaluateAll((els) =>
      els.map((el) => (el.querySelector('.label-name')?.textContent ?? el.getAttribute('aria-label') ?? '').trim()),
    );
  // Discovery runs after activation: wait until every environment has a row.
  const deadline = Date.now() + 45_000;
  let seen = await labels();
  while (!ENVIRONMENTS.every((env) => seen.includes(env)) && Date.now() < deadline) {
    await page.waitForTimeout(250);
    seen = await labels();
  }
  // Move the pointer off the activity bar (no tooltip) and let icons and descriptions settle.
  await page.mouse.move(900, 500);
  await page.waitForTimeout(700);
  await screenshot('explorer');

  const environments = seen.filter((label) => ENVIRONMENTS.includes(label));
  assert.deepEqual([...environments].sort(), ENVIRONMENTS, `rows in the Lifeboat side bar: ${JSON.stringify(seen)}`);
  for (const env of ENVIRONMENTS) {
    await assert.doesNotReject(
      sidebar.locator('.monaco-list-row .label-name', { hasText: new RegExp(`^${env}$`) }).first().isVisible().then((v) => {
        if (!v) throw new Error(`row ${env} is not visible`);
      }),
    );
  }
}
