// Entry point of the extension-host tests on the simulated homelab (bundled to
// out/test/host/labIndex.js, run by scripts/e2e/runHostLab.mjs on .lab/workspace with .lab/env).
// Same contract and markers as test/host/suite/index.ts; the mocha instance comes from its setup.
import { mocha } from '../suite/setup';
import './labEnvironment.test';
import './labCodeLens.test';
import './labExplorer.test';
import './labRestoreRefused.test';
import './labVerifyOutcome.test';
import './labState.test';
// Destroys two guests of alpha and restores them: last, so that nothing above sees the gap.
import './labLostGuest.test';

export const START_MARKER = 'LIFEBOAT_HOST_START';
export const RESULT_MARKER = 'LIFEBOAT_HOST_RESULT';

export function run(): Promise<void> {
  const grep = process.env['LIFEBOAT_HOST_GREP'];
  if (grep) mocha.grep(new RegExp(grep));
  return new Promise((resolve, reject) => {
    console.log(START_MARKER);
    try {
      const runner = mocha.run((failures) => {
        const { passes = 0, failures: failed = failures } = runner.stats ?? {};
        console.log(`extension-host lab tests: ${passes} passed, ${failed} failed`);
        console.log(`${RESULT_MARKER} ${JSON.stringify({ passed: passes, failed })}`);
        if (failed > 0) reject(new Error(`${failed} extension-host lab test(s) failed`));
        else resolve();
      });
    } catch (err) {
      console.log(`${RESULT_MARKER} ${JSON.stringify({ passed: 0, failed: 1 })}`);
      reject(err instanceof Error ? err : new Error(String(err)));
    }
  });
}
