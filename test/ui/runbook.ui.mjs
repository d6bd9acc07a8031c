// @ts-check
// The runbook checklist in a real workbench, mid-run: "Lifeboat: Open Runbook…" from the palette,
// a step run with its Run button (done, with its time), then "Run all remaining" stopping at a
// failing step (failed, with its output and why; the next step not run). Screenshot:
// ui-runbook-mid-run.png. After a window reload, a command with a <vmid> placeholder given a value
// the shell would interpret: the filled command is shown in a confirmation whose default is No
// (ui-runbook-filled-command.png), and nothing runs. The runbook is written into the workspace for
// the test and removed afterwards.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';

export const timeout = 240_000;

const NAME = 'lifeboat-ui-checklist';

const RUNBOOK = `# Recovery drill: MinIO and the Terraform state

**Target:** back in under 30 minutes (RTO).

## Before you start

- [x] The replacement node answers on SSH
- [ ] \`MINIO_ROOT_PASSWORD\` is exported in this shell

## Step 1 — Check the backup storage (about 1 min)

\`\`\`sh
echo "backups: 14 archives, newest 2026-11-23 02:10"; sleep 2; echo "storage ok"
\`\`\`

- [x] The newest backup is from last night

## Step 2 — Reach MinIO (about 2 min)

\`\`\`sh
echo "checking http://10.20.0.52:9000/minio/health/live"; echo "curl: (7) Failed to connect to 10.20.0.52 port 9000: Connection refused" >&2; exit 7
\`\`\`

> If MinIO does not answer, rebuild it first (step 3).

## Step 3 — Restore the Terraform state (about 5 min)

\`\`\`sh
./scripts/restore/restore-tfstate.sh --env prod --restore <version-id>
\`\`\`

Expected: \`No changes. Your infrastructure matches the configuration.\`

## Step 4 — Check a guest (about 1 min)

\`\`\`sh
echo checking guest <vmid> # the VMID from the table
\`\`\`
`;

/** The webview's inner frame (VS Code nests it in two iframes). */
async function checklistFrame(page, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      try {
        if (await frame.locator('li.step').count() > 0) return frame;
      } catch {
        // a frame being replaced
      }
    }
    await page.waitForTimeout(250);
  }
  throw new Error('the checklist webview did not appear');
}

/** @param {{ page: import('playwright-core').Page, open: () => Promise<void>, screenshot: (name: string) => Promise<string>, workspace: string }} t */
export async function run({ page, open, screenshot, workspace }) {
  const file = path.join(workspace, 'docs', `${NAME}.md`);
  const runLog = path.join(workspace, 'docs', '.lifeboat', 'runs', `${NAME}.json`);
  await fs.writeFile(file, RUNBOOK, 'utf8');
  await fs.rm(runLog, { force: true });
  try {
    await open();
    // The palette: "Lifeboat: Open Runbook…", then the runbook in the quick pick. The extension's
    // contributions arrive after the workbench: wait for its activity-bar entry, retry the palette.
    await page.locator('.activitybar [aria-label^="Lifeboat"]').first().waitFor({ timeout: 60_000 });
    const input = page.locator('.quick-input-widget input');
    const command = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Open Runbook' }).first();
    for (let attempt = 0; ; attempt++) {
      await page.keyboard.press('F1');
      await input.waitFor({ timeout: 15_000 });
      await input.fill('>Lifeboat: Open Runbook');
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
    await page.locator('.quick-input-list .monaco-list-row', { hasText: NAME }).first().waitFor({ timeout: 30_000 });
    await input.fill(NAME);
    await page.waitForTimeout(300);
    await page.keyboard.press('Enter');

    const frame = await checklistFrame(page, 45_000);
    const steps = frame.locator('li.step');
    assert.equal(await steps.count(), 4);

    // Step 1 with its own Run button: done, with its time (it sleeps 2 s).
    await steps.nth(0).locator('vscode-button[data-action="runStep"]').click();
    await frame.locator('li.step[data-status="done"]').first().waitFor({ timeout: 30_000 });
    // Then everything that remains: step 2 fails and the sequence stops there.
    await frame.locator('.toolbar vscode-button[data-action="runAll"]').click();
    await frame.locator('li.step[data-status="failed"]').first().waitFor({ timeout: 30_000 });
    await page.waitForTimeout(1200);

    assert.equal(await steps.nth(0).getAttribute('data-status'), 'done');
    assert.match(await steps.nth(0).locator('.time').textContent() ?? '', /^00:0[2-9]$/);
    assert.match(await steps.nth(0).locator('.output').textContent() ?? '', /storage ok/);
    assert.equal(await steps.nth(1).getAttribute('data-status'), 'failed');
    assert.match(await steps.nth(1).locator('.output').textContent() ?? '', /Connection refused/);
    assert.match(await steps.nth(1).locator('.failure').textContent() ?? '', /exited with code 7/, 'why it failed, in the step');
    assert.deepEqual(await steps.nth(1).locator('.step-actions vscode-button').evaluateAll((els) => els.map((e) => e.getAttribute('data-action'))), ['retry', 'skip', 'markDone']);
    assert.equal(await steps.nth(2).getAttribute('data-status'), 'pending', 'the sequence stopped at the failure');
    assert.equal(await steps.nth(3).getAttribute('data-status'), 'pending');
    assert.match(await frame.locator('.notice').textContent() ?? '', /Reach MinIO/);
    // The packaged stylesheet is loaded: a failed step has its red left border, a done one a badge.
    const failedBorder = await steps.nth(1).evaluate((el) => globalThis.getComputedStyle(el).borderLeftWidth);
    assert.equal(failedBorder, '4px', 'the checklist stylesheet (dist/webview.css) is applied');
    const badge = await steps.nth(0).locator('.status').evaluate((el) => globalThis.getComputedStyle(el).borderRadius);
    assert.equal(badge, '10px', 'the status badge is styled');

    await page.mouse.move(1300, 800);
    await screenshot('runbook-mid-run');
    const saved = JSON.parse(await fs.readFile(runLog, 'utf8'));
    assert.deepEqual(Object.values(saved.steps).map((s) => /** @type {{ status: string }} */ (s).status), ['done', 'failed', 'pending', 'pending']);

    // A window reload: the serializer reopens the checklist and the run log brings its state back.
    // "Developer: Reload Window", as an operator would: the workbench saves its open editors before
    // it reloads, where a bare page.reload() can beat that save and then reopens nothing.
    await page.locator('.part.sidebar .title-label').first().click();
    await page.keyboard.press('F1');
    await input.waitFor({ timeout: 15_000 });
    await input.fill('>Developer: Reload Window');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Reload Window' }).first().waitFor({ timeout: 15_000 });
    await Promise.all([page.waitForEvent('load', { timeout: 60_000 }), page.keyboard.press('Enter')]);
    await page.locator('.monaco-workbench').waitFor({ timeout: 30_000 });
    const restored = await checklistFrame(page, 60_000);
    await restored.locator('li.step[data-status="failed"]').first().waitFor({ timeout: 30_000 });
    const after = await restored.locator('li.step').evaluateAll((els) => els.map((e) => e.getAttribute('data-status')));
    assert.deepEqual(after, ['done', 'failed', 'pending', 'pending'], 'the state survives a window reload');
    assert.match(await restored.locator('li.step').nth(1).locator('.output').textContent() ?? '', /Connection refused/, 'with the output tail');
    await page.waitForTimeout(500);
    await screenshot('runbook-after-reload');

    // A placeholder value the shell would interpret: pointed out while typing, then the command as it
    // would run, in a confirmation whose default is No. Nothing runs.
    const guest = restored.locator('li.step').nth(3);
    assert.equal(await guest.locator('pre.command-text').textContent(), 'echo checking guest <vmid>', 'the trailing comment is not part of the command');
    await guest.locator('vscode-button[data-action="run"]').click();
    const box = page.locator('.quick-input-widget');
    await box.locator('input').waitFor({ timeout: 15_000 });
    assert.match(await box.textContent() ?? '', /<vmid>/);
    await box.locator('input').fill('121; echo INJECTED');
    await box.getByText(/the shell interprets/).first().waitFor({ timeout: 10_000 });
    await page.keyboard.press('Enter');
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 15_000 });
    const text = (await dialog.innerText()).replace(/\s+/g, ' ');
    assert.match(text, /A value you typed holds characters the shell interprets/, text);
    assert.match(text, /\$ echo checking guest 121; echo INJECTED/, `the filled command: ${text}`);
    const focused = await page.evaluate(() => (globalThis.document.activeElement?.textContent ?? '').trim());
    assert.equal(focused, 'No, Change Nothing', `the confirmation's focused button is "${focused}"`);
    await page.waitForTimeout(400);
    await screenshot('runbook-filled-command');
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'detached', timeout: 15_000 });
    await page.waitForTimeout(1500);
    assert.equal(await guest.getAttribute('data-status'), 'pending', 'nothing ran');
    assert.equal(await guest.locator('.output').textContent(), '', 'no output');
    const unchanged = JSON.parse(await fs.readFile(runLog, 'utf8'));
    assert.equal(unchanged.steps[Object.keys(unchanged.steps)[3]].status, 'pending');
  } finally {
    await fs.rm(file, { force: true });
    await fs.rm(runLog, { force: true });
    for (const dir of [path.dirname(runLog), path.dirname(path.dirname(runLog))]) await fs.rmdir(dir).catch(() => undefined);
  }
}
