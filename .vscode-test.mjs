// @ts-check
// Extension-host tests with @vscode/test-cli (`npx vscode-test`), for machines that can download
// VS Code. On our machines and in CI the same bundle runs inside code-server instead:
// `node scripts/e2e/runHost.mjs` (see shared/reference/vscode-e2e.md).
// Build first: `npm run build` bundles test/host/suite/index.ts to out/test/host/index.js.
import { defineConfig } from '@vscode/test-cli';

/** @type {import('@vscode/test-cli').TestConfiguration} */
const host = {
  label: 'host',
  files: 'out/test/host/index.js',
  workspaceFolder: 'test/fixtures/homelab',
  launchArgs: ['--disable-extensions', '--disable-workspace-trust'],
  mocha: { ui: 'bdd', timeout: 60_000, color: true },
};

export default defineConfig([
  { ...host, version: 'stable' },
  // The minimum engines.vscode of package.json.
  { ...host, label: 'host-min', version: '1.96.0' },
]);
