import * as assert from 'node:assert/strict';
import { styles } from '../../../src/cli/output';

const tty = { isTTY: true } as NodeJS.WriteStream;
const pipe = { isTTY: false } as NodeJS.WriteStream;

describe('CLI colours', () => {
  it('colour on a terminal, none through a pipe', () => {
    assert.equal(styles(tty, {}).red('x'), '\u001b[31mx\u001b[39m');
    assert.equal(styles(pipe, {}).red('x'), 'x');
  });

  it('NO_COLOR set to any value turns colour off; an empty NO_COLOR does not (no-color.org)', () => {
    assert.equal(styles(tty, { NO_COLOR: '1' }).bold('x'), 'x');
    assert.equal(styles(tty, { NO_COLOR: '' }).bold('x'), '\u001b[1mx\u001b[22m');
  });

  it('TERM=dumb turns colour off', () => {
    assert.equal(styles(tty, { TERM: 'dumb' }).green('x'), 'x');
  });
});
