// A mocha reporter: the spec reporter's output, plus a JSON summary { suite, passed, failed }
// written to $TEST_SUMMARY so scripts/test.mjs can sum every suite into one closing line.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const Mocha = require('mocha');

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const file = process.env.TEST_SUMMARY;
      if (!file) return;
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const { passes, failures } = runner.stats;
      fs.writeFileSync(file, JSON.stringify({ suite: process.env.TEST_SUITE ?? 'mocha', passed: passes, failed: failures }) + '\n');
    });
  }
}
module.exports = SummaryReporter;
