// @ts-check
// A guest destroyed on its node, in the real workbench: postgres (131) and dns (132) are destroyed on
// alpha (`pct destroy`; their backups stay). The explorer shows postgres "missing — restorable from
// backup" with VMID 131, and dns's backups under "Backups without a guest"; right-click postgres →
// "Restore from Newest Backup…" plans the restore of VMID 131 on alpha (a new guest, nothing
// overwritten) and the modal's default "No, Change Nothing" leaves the lab as it is. Both guests are
// brought back at the end with the node's own `pct restore`, whatever happened. (The restore itself
// is not run: in the lab its reachability check fails for a lost guest — see the work package's report.)
// Screenshot: test-results/ui-lab-explorer-lost-guest.png
import assert from 'node:assert/strict';
import { chooseMenuItem, dialog, expand, openLifeboat, row, rows, settledScreenshot, until, widenSidebar } from './lib.mjs';

export const timeout = 300_000;

/**
 * @param {{ page: import('playwright-core').Page, open: () => Promise<void>, screenshot: (name: string) => Promise<string>,
 *           workspace: string, lab: import('../../../scripts/e2e/labEnv.mjs').E2eLab }} t
 */
export async function run({ page, open, screenshot, lab }) {
  const destroyed = [131, 132];
  const before = lab.guests('alpha');
  for (const vmid of destroyed) {
    const g = before.find((x) => x.vmid === vmid);
    assert.ok(g, `${vmid} on alpha before the test`);
    lab.ssh('alpha', `${g.status === 'running' ? `pct stop ${vmid} && ` : ''}pct destroy ${vmid}`);
  }
  try {
    await until(async () => !lab.guests('alpha').some((g) => destroyed.includes(g.vmid)), 60_000, '131 and 132 gone from alpha');

    await open();
    await openLifeboat(page);
    await widenSidebar(page, 820);
    await expand(page, 'prod');
    await expand(page, 'alpha');
    const postgres = row(page, 'postgres');
    await until(async () => /missing — restorable from backup/.test((await postgres.innerText().catch(() => '')) ?? ''), 120_000, 'postgres shown as missing, restorable');
    await expand(page, 'Backups without a guest');
    await expand(page, 'VMID 132');
    await settledScreenshot(page, screenshot, 'explorer-lost-guest');

    const all = await rows(page);
    const p = all.find((r) => r.label === 'postgres');
    assert.match(p?.description ?? '', /^131 · LXC · missing — restorable from backup · newest \d+ (min|h|d) ago$/, JSON.stringify(p));
    assert.match(p?.icon ?? '', /codicon-history/, `postgres icon ${p?.icon}`);
    const dns = all.find((r) => r.label === 'dns');
    assert.equal(dns?.description, 'LXC · not found on any node');
    const v132 = all.find((r) => r.label === 'VMID 132');
    const onNode = lab.ssh('alpha', 'pvesm list backups --vmid 132; pvesm list local --vmid 132').split('\n').filter((l) => l.includes('vzdump-lxc-132-')).length;
    assert.match(v132?.description ?? '', new RegExp(`^LXC · ${onNode} backup\\(s\\) · newest \\d+ (min|h|d) ago$`), JSON.stringify(v132));
    // The list is virtual: only the rows in view exist in the page.
    const start = all.findIndex((r) => r.label === 'VMID 132');
    const orphanBackups = all.slice(start + 1).filter((r) => r.level === all[start].level + 1);
    assert.ok(orphanBackups.length >= 5, `${orphanBackups.length} backups of 132 in view`);
    // Lifeboat's own safety points (left by earlier suites' restores of 132) say so first.
    for (const b of orphanBackups) assert.match(b.description, /^(safety point · )?\d+ (min|h|d) ago · [\d.]+ (GiB|MiB|KiB) · tar\.(zst|gz) · (backups|local)/, b.description);

    // The restore from the guest item: the plan names 131 on alpha, restores it with pct restore,
    // destroys nothing; the default answer changes nothing.
    await postgres.click({ button: 'right' });
    await chooseMenuItem(page, 'Restore from Newest Backup…');
    const box = dialog(page);
    await box.waitFor({ timeout: 120_000 });
    const plan = (await box.innerText()).replace(/\s+/g, ' ');
    assert.match(plan, /pct restore 131 backups:backup\/vzdump-lxc-131-/, `the plan's restore command: ${plan}`);
    assert.match(plan, /CT 131 \(new\)/, plan);
    assert.doesNotMatch(plan, /will destroy or overwrite/, plan);
    const buttons = (await box.locator('.monaco-button').allInnerTexts()).map((b) => b.trim());
    assert.ok(buttons.includes('Restore') && buttons.includes('No, Change Nothing') && !buttons.includes('Overwrite and Restore'), `nothing to overwrite: "Restore", and the default "No": ${JSON.stringify(buttons)}`);
    await page.waitForTimeout(500);
    await screenshot('explorer-lost-guest-plan');
    await box.locator('.monaco-button', { hasText: /^No, Change Nothing$/ }).click();
    await box.waitFor({ state: 'detached', timeout: 15_000 });
    await page.waitForTimeout(2000);
    assert.ok(!lab.guests('alpha').some((g) => g.vmid === 131), 'nothing restored on "No"');
  } finally {
    // Whatever failed above, the suites that follow find the lab as it was.
    const stamp = (/** @type {string} */ v) => /-(\d{4}_\d{2}_\d{2}-\d{2}_\d{2}_\d{2})\./.exec(v)?.[1] ?? '';
    for (const vmid of destroyed) {
      if (lab.guests('alpha').some((g) => g.vmid === vmid)) continue;
      const volid = lab.ssh('alpha', `pvesm list backups --vmid ${vmid}; pvesm list local --vmid ${vmid}`).split('\n')
        .map((l) => l.split(/\s+/)[0] ?? '').filter((v) => v.includes(`vzdump-lxc-${vmid}-`))
        .sort((a, b) => stamp(b).localeCompare(stamp(a)))[0];
      lab.ssh('alpha', `pct restore ${vmid} ${volid} --storage local-lvm && pct start ${vmid}`);
    }
    await until(async () => destroyed.every((v) => lab.guests('alpha').some((g) => g.vmid === v && g.status === 'running')), 60_000, '131 and 132 running again on alpha');
  }
}
