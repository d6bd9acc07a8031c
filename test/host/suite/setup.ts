// Creates the mocha instance and installs its BDD globals (describe, it, ...) *before* the test
// files run. index.ts imports this module first: in the esbuild bundle, imported modules run in
// import order, so the test modules that follow register their suites on `mocha.suite`.
import Mocha from 'mocha';

export const mocha = new Mocha({ ui: 'bdd', reporter: 'spec', timeout: 60_000, color: false });

// The same event mocha emits before require()-ing each spec file; 'bundle' stands for the file name.
mocha.suite.emit('pre-require', globalThis, 'bundle', mocha);
