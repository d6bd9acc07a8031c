// @ts-check
// prod/terraform.tfvars of the lab's workspace with Lifeboat's lenses (issue 7's "Done when"), then a
// click on the lens above "gitea": the guided restore of VMID 121 starts with the modal confirmation
// that shows the plan (stop, vzdump safety point, qmrestore ... 121 --force 1). Cancel changes nothing.
// Screenshots: test-results/ui-lab-codelens.png, test-results/ui-lab-restore-confirm.png
import assert from 'node:assert/strict';
import { dialog, expand, openLifeboat, quickOpen, row, until } from './lib.mjs';

export const timeout = 300_000;

const PROD = 'infrastructure/proxmox/environments/prod/terraform.tfvars';

/**
 * @param {{ page: import('playwright-core').Page, open: () => Promise<void>, screenshot: (name: string) => Promise<string>,
 *           lab: import('../../../scripts/e2e/labEnv.mjs').E2eLab }} t
 */
export async function run({ page, open, screenshot, lab }) {
  const before = snapshot121(lab);
  assert.equal(before.status, 'running', `121 should be running before the test: ${JSON.stringify(before)}`);

  await open();
  // The lenses read the cached inventory only: expanding a node is what reads the nodes.
  await openLifeboat(page);
  await expand(page, 'prod');
  await expand(page, 'alpha');
  await row(page, 'gitea').waitFor({ timeout: 120_000 });

  await quickOpen(page, PROD);
  const editor = page.locator('.editor-instance .monaco-editor').first();
  await editor.waitFor({ timeout: 30_000 });
  const lensTexts = async () => page.locator('.monaco-editor .codelens-decoration').evaluateAll((els) => els.map((e) => (e.textContent ?? '').trim()));
  const texts = await until(async () => {
    const t = await lensTexts();
    return ['121', '122', '131', '132'].every((v) => t.some((x) => x.includes(`VMID ${v},`))) ? t : undefined;
  }, 60_000, 'restore lenses for VMIDs 121, 122, 131 and 132');
  for (const vmid of ['121', '122', '131', '132']) {
    assert.ok(texts.some((t) => new RegExp(`Restore from newest backup \\(VMID ${vmid}, \\d+ (min|h|d) old\\)`).test(t)), `lens for ${vmid}: ${JSON.stringify(texts)}`);
  }
  assert.ok(texts.some((t) => /Lifeboat: prod — 4 guests/.test(t)), `summary lens: ${JSON.stringify(texts)}`);
  await page.mouse.move(1300, 820);
  await page.waitForTimeout(800);
  await screenshot('codelens');

  // The lens above "gitea".
  await page.locator('.monaco-editor .codelens-decoration a', { hasText: /VMID 121,/ }).first().click();
  const box = dialog(page);
  await box.waitFor({ timeout: 120_000 });
  const text = (await box.innerText()).replace(/\s+/g, ' ');
  assert.match(text, /121/, text);
  assert.match(text, /qmrestore \S+ 121 .*--force 1/, `the plan's qmrestore command: ${text}`);
  assert.match(text, /vzdump 121/, `the safety point (vzdump of 121): ${text}`);
  const accept = box.locator('.monaco-button', { hasText: /^Overwrite and Restore$/ });
  assert.equal(await accept.count(), 1, 'an "Overwrite and Restore" button');
  await page.waitForTimeout(500);
  await screenshot('restore-confirm');
  // The default answer is no: the button Enter would press is the one that changes nothing.
  const focused = await page.evaluate(() => (globalThis.document.activeElement?.textContent ?? '').trim());
  assert.equal(focused, 'No, Change Nothing', `the confirmation's focused button is "${focused}"`);

  await box.locator('.monaco-button', { hasText: /^Cancel$/ }).click();
  await box.waitFor({ state: 'detached', timeout: 15_000 });
  // Nothing happens after Cancel: no progress notification of a restore, 121 as it was.
  await page.waitForTimeout(5000);
  const progress = await page.locator('.notifications-toasts .notification-toast').filter({ hasText: /Restor/ }).count();
  assert.equal(progress, 0, 'no restore notification after Cancel');
  const after = snapshot121(lab);
  assert.deepEqual(after, before, '121 unchanged after Cancel');
}

/** 121 as alpha sees it, and its backups (a safety point would add one). @param {import('../../../scripts/e2e/labEnv.mjs').E2eLab} lab */
function snapshot121(lab) {
  const g = lab.guests('alpha').find((x) => x.vmid === 121);
  const backups = lab.ssh('alpha', 'pvesm list backups --vmid 121; pvesm list local --vmid 121').split('\n').filter((l) => l.includes('vzdump')).length;
  return { status: g?.status, lock: g?.lock ?? null, backups };
}
