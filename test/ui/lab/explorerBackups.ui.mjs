// @ts-check
// The Recovery explorer on the lab: prod → alpha → gitea expanded to its backups (dates, ages, sizes,
// the protected one), lab → beta with sandbox "never backed up" and k3s-test's old backups.
// Screenshot: test-results/ui-lab-explorer-backups.png
import assert from 'node:assert/strict';
import { expand, openLifeboat, row, rows, settledScreenshot, until, widenSidebar } from './lib.mjs';

export const timeout = 240_000;

const DATE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/;

/** @param {{ page: import('playwright-core').Page, open: () => Promise<void>, screenshot: (name: string) => Promise<string> }} t */
export async function run({ page, open, screenshot }) {
  await open();
  await openLifeboat(page);
  await widenSidebar(page, 820);

  await expand(page, 'prod');
  await expand(page, 'alpha');
  // Expanding a node reads the nodes over SSH (the first time): wait for the guests.
  await row(page, 'gitea').waitFor({ timeout: 120_000 });
  await expand(page, 'gitea');
  const giteaBackups = await until(async () => {
    const all = await rows(page);
    const start = all.findIndex((r) => r.label === 'gitea');
    const backups = all.slice(start + 1).filter((r) => r.level === all[start].level + 1);
    return backups.length >= 14 ? backups : undefined;
  }, 60_000, "gitea's backups");

  await expand(page, 'lab');
  await expand(page, 'beta');
  await row(page, 'sandbox').waitFor({ timeout: 60_000 });
  // k3s-test: only old lzo backups on local in a fresh lab (its newest one is stale: warning).
  await expand(page, 'k3s-test');
  await settledScreenshot(page, screenshot, 'explorer-backups');

  const all = await rows(page);
  const gitea = all.find((r) => r.label === 'gitea');
  assert.ok(gitea, 'gitea row');
  assert.match(gitea.description, /^121 · VM · \w+ · newest \d+ (min|h|d) ago$/, gitea.description);
  for (const b of giteaBackups) {
    assert.match(b.label, DATE, `backup label ${b.label}`);
    // Lifeboat's own safety points (from earlier restores) say so first.
    assert.match(b.description, /^(safety point · )?\d+ (min|h|d) ago · \d+(\.\d)? (GiB|MiB|KiB) · vma\.(zst|gz|lzo) · (backups|local)/, b.description);
  }
  const labels = giteaBackups.map((b) => b.label);
  assert.deepEqual(labels, [...labels].sort().reverse(), 'newest first');
  // Safety points are protected too (vzdump --protected 1): the seeded protected one is the other.
  const locked = giteaBackups.filter((b) => /codicon-lock/.test(b.icon) && !/^safety point · /.test(b.description));
  assert.equal(locked.length, 1, `one protected (lock icon) backup: ${JSON.stringify(giteaBackups.map((b) => b.icon))}`);
  const sandbox = all.find((r) => r.label === 'sandbox');
  assert.ok(sandbox, 'sandbox row');
  assert.match(sandbox.description, /^202 · VM · stopped · never backed up$/, sandbox.description);
  // Never backed up is an error (as verify-backups says): the error codicon, in the error colour.
  assert.match(sandbox.icon, /codicon-error/, `sandbox icon ${sandbox.icon}`);
  const k3s = all.find((r) => r.label === 'k3s-test');
  assert.ok(k3s && /^201 · VM · /.test(k3s.description), `k3s-test row: ${JSON.stringify(k3s)}`);
}
