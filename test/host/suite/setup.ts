// Creates the mocha instance and installs its BDD globals (describe, it, ...) *before* the test
// files run. index.ts imports this module first: in the esbuild bundle, imported modules run in
// import order, so the test modules that follow register their suites on `mocha.suite`.
//
// Two hosts load the bundle:
//  - code-server (scripts/e2e/runHost.mjs) and @vscode/test-electron require() it and call run():
//    no mocha globals exist yet, so this module sets them up on its own instance;
//  - @vscode/test-cli (.vscode-test.mjs) lists it in `files`: its own mocha has already emitted
//    'pre-require', so `describe` exists and the suites must register there instead.
import Mocha from 'mocha';

export const mocha = new Mocha({ ui: 'bdd', reporter: 'spec', timeout: 60_000, color: false });

/** True when another mocha (test-cli) is loading this bundle as a spec file. */
export const loadedBySpecRunner = typeof (globalThis as { describe?: unknown }).describe === 'function';

if (!loadedBySpecRunner) {
  // The same event mocha emits before require()-ing each spec file; 'bundle' stands for the file name.
  mocha.suite.emit('pre-require', globalThis, 'bundle', mocha);
}
