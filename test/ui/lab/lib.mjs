// @ts-check
// Helpers shared by the UI tests on the lab (test/ui/lab/*.ui.mjs): the Lifeboat side bar, tree rows,
// notifications and the modal dialog of a real VS Code workbench (code-server 4.139.1 / VS Code 1.139.1).
/** @typedef {import('playwright-core').Page} Page */

/** Opens the Lifeboat view container and waits for the three environments of the lab. @param {Page} page */
export async function openLifeboat(page) {
  const entry = page.locator('.activitybar [aria-label^="Lifeboat"]').first();
  await entry.waitFor({ timeout: 120_000 });
  await entry.click();
  const sidebar = page.locator('.part.sidebar');
  await sidebar.locator('.composite.title').filter({ hasText: /lifeboat/i }).waitFor({ timeout: 30_000 });
  for (const env of ['prod', 'lab', 'monitoring']) await row(page, env).waitFor({ timeout: 60_000 });
  return sidebar;
}

/**
 * Takes a screenshot once the pointer is off the tree (no hover tooltip or highlight) and the
 * view has settled. @param {Page} page @param {(name: string) => Promise<string>} screenshot @param {string} name
 */
export async function settledScreenshot(page, screenshot, name) {
  await page.mouse.move(1300, 800);
  await page.waitForTimeout(1000);
  return screenshot(name);
}

/** Widens the side bar by dragging the sash on its right edge, so that descriptions are not cut. @param {Page} page @param {number} width */
export async function widenSidebar(page, width) {
  const bar = await page.locator('.part.sidebar').boundingBox();
  if (!bar) throw new Error('no side bar');
  const edge = bar.x + bar.width;
  const sashes = await page.locator('.monaco-sash.vertical').evaluateAll((els) => els.map((el, i) => {
    const r = el.getBoundingClientRect();
    return { i, x: r.x + r.width / 2, y: r.y + r.height / 2, h: r.height, w: r.width };
  }));
  const sash = sashes.filter((s) => s.h > 100 && s.w > 0 && Math.abs(s.x - edge) < 8).sort((a, b) => Math.abs(a.x - edge) - Math.abs(b.x - edge))[0];
  if (!sash) throw new Error(`no sash at the side bar's edge (x=${edge}): ${JSON.stringify(sashes)}`);
  await page.mouse.move(sash.x, sash.y);
  await page.waitForTimeout(400);
  await page.mouse.down();
  await page.mouse.move(sash.x + 40, sash.y, { steps: 4 });
  await page.mouse.move(bar.x + width, sash.y, { steps: 12 });
  await page.mouse.up();
  await page.waitForTimeout(300);
}

/** The tree row whose label is exactly `label`. @param {Page} page @param {string} label */
export function row(page, label) {
  return page.locator('.part.sidebar .monaco-list-row').filter({
    has: page.locator('.label-name', { hasText: new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }),
  }).first();
}

/** Expands a collapsed row by its twistie (a guest has a click command, so only the twistie expands it). @param {Page} page @param {string} label */
export async function expand(page, label, timeout = 90_000) {
  const r = row(page, label);
  await r.waitFor({ timeout });
  if ((await r.getAttribute('aria-expanded')) === 'true') return r;
  await r.locator('.monaco-tl-twistie').click();
  await page.waitForFunction((el) => el?.getAttribute('aria-expanded') === 'true', await r.elementHandle(), { timeout: 10_000 });
  return r;
}

/** Every visible row of the side bar: label, description, icon classes, aria-label. @param {Page} page */
export async function rows(page) {
  return page.locator('.part.sidebar .monaco-list-row').evaluateAll((els) => els.map((el) => ({
    label: (el.querySelector('.label-name')?.textContent ?? '').trim(),
    description: (el.querySelector('.label-description')?.textContent ?? '').trim(),
    icon: el.querySelector('.custom-view-tree-node-item-icon')?.className ?? '',
    aria: el.getAttribute('aria-label') ?? '',
    level: Number(el.getAttribute('aria-level') ?? 0),
  })));
}

/** Waits until `probe` returns a truthy value; returns it. @template T @param {() => Promise<T>} probe @param {number} timeout @param {string} what */
export async function until(probe, timeout, what) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await probe();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** The modal dialog (web workbench: rendered in the DOM). @param {Page} page */
export function dialog(page) {
  return page.locator('.monaco-dialog-box');
}

/** A notification toast containing `text`. @param {Page} page @param {string | RegExp} text */
export function toast(page, text) {
  return page.locator('.notifications-toasts .notification-toast').filter({ hasText: text }).first();
}

/** Opens a workspace file with Quick Open. @param {Page} page @param {string} relative */
export async function quickOpen(page, relative) {
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ timeout: 15_000 });
  await input.fill(relative);
  await page.locator('.quick-input-list .monaco-list-row').first().waitFor({ timeout: 30_000 });
  await page.waitForTimeout(500);
  await page.keyboard.press('Enter');
}

/**
 * Clicks an item of the open context menu. The workbench's menu sometimes ignores a click that comes
 * while it is still opening (seen on a loaded machine): if the menu is still there, Enter on the
 * hovered item chooses it. @param {Page} page @param {string} label
 */
export async function chooseMenuItem(page, label) {
  const item = page.locator('.monaco-menu .action-item', { hasText: label }).first();
  await item.waitFor({ timeout: 15_000 });
  await item.hover();
  await page.waitForTimeout(300);
  await item.locator('.action-label').first().click();
  const closed = await page.locator('.monaco-menu').first().waitFor({ state: 'detached', timeout: 3_000 }).then(() => true, () => false);
  if (!closed && (await item.isVisible())) {
    await item.hover();
    await page.keyboard.press('Enter');
  }
}
