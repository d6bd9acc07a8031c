// Entry point of the extension-host tests (the @vscode/test-electron contract): the extension host
// require()s the bundle out/test/host/index.js and awaits run(). Bundled by esbuild, so the test
// files are imported statically, after ./setup has installed mocha's globals.
import { mocha } from './setup';
import './activation.test';
import './commands.test';
import './recoveryTree.test';
import './runbook.test';

/** Machine-readable lines parsed by scripts/e2e/runHost.mjs (it streams what is between them). */
export const START_MARKER = 'LIFEBOAT_HOST_START';
export const RESULT_MARKER = 'LIFEBOAT_HOST_RESULT';

export function run(): Promise<void> {
  return new Promise((resolve, reject) => {
    console.log(START_MARKER);
    try {
      const runner = mocha.run((failures) => {
        const { passes = 0, failures: failed = failures } = runner.stats ?? {};
        console.log(`extension-host tests: ${passes} passed, ${failed} failed`);
        console.log(`${RESULT_MARKER} ${JSON.stringify({ passed: passes, failed })}`);
        if (failed > 0) reject(new Error(`${failed} extension-host test(s) failed`));
        else resolve();
      });
    } catch (err) {
      console.log(`${RESULT_MARKER} ${JSON.stringify({ passed: 0, failed: 1 })}`);
      reject(err instanceof Error ? err : new Error(String(err)));
    }
  });
}
