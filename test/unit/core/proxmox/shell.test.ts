import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { commandLine, detached, pipeline, quoteArg } from '../../../../src/core/proxmox/shell';

/** What /bin/sh receives as one argument after parsing `quoted` (printf prints it back, one per line). */
function throughShell(quoted: string, cwd: string): string {
  return execFileSync('/bin/sh', ['-c', 'printf "%s\\n" ' + quoted], { cwd, encoding: 'utf8' });
}

describe('proxmox/shell quoting (the one place that quotes)', () => {
  it('leaves plain words readable in plans and logs', () => {
    for (const word of ['qmrestore', '121', '--force', 'local:backup/vzdump-qemu-121-2026_11_20-13_05_40.vma.zst', '/nodes/alpha/storage', 'UPID:alpha:000668A1:00989299:6B01D068:qmrestore:121:root@pam:', 'a=b,c+d%e']) {
      assert.equal(quoteArg(word), word);
    }
  });

  it('single-quotes anything with shell syntax, and escapes single quotes', () => {
    assert.equal(quoteArg(''), `''`);
    assert.equal(quoteArg('two words'), `'two words'`);
    assert.equal(quoteArg("it's"), `'it'\\''s'`);
    assert.equal(quoteArg('$(reboot)'), `'$(reboot)'`);
    assert.equal(quoteArg('`reboot`'), "'`reboot`'");
    assert.equal(quoteArg('a;b'), `'a;b'`);
    assert.equal(quoteArg('line1\nline2'), `'line1\nline2'`);
    assert.equal(quoteArg('*.vma'), `'*.vma'`);
    assert.equal(quoteArg('{{guestname}}'), `'{{guestname}}'`);
    assert.equal(quoteArg('~root'), `'~root'`);
  });

  it('refuses a NUL byte rather than truncating the argument', () => {
    assert.throws(() => quoteArg('local:backup/x\0; rm -rf /'), /NUL/);
    assert.throws(() => commandLine({ program: 'qmrestore', args: ['a\0b'] }), /NUL/);
  });

  it('joins a command, a pipeline and a detached command with every argument quoted', () => {
    assert.equal(commandLine({ program: 'vzdump', args: ['121', '--notes-template', 'Lifeboat safety point'] }), `vzdump 121 --notes-template 'Lifeboat safety point'`);
    assert.equal(pipeline({ program: 'zstd', args: ['-dc', 'a b.vma.zst'] }, { program: 'vma', args: ['verify', '-v', '-'] }), `zstd -dc 'a b.vma.zst' | vma verify -v -`);
    assert.equal(detached({ program: 'qmrestore', args: ['x;y', '121'] }, '/tmp/lifeboat log'), `setsid nohup qmrestore 'x;y' 121 > '/tmp/lifeboat log' 2>&1 < /dev/null & echo $!`);
  });

  describe('hostile values stay data in a real /bin/sh', () => {
    let dir: string;
    beforeEach(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-quote-')); });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    const hostile = [
      'local:backup/vzdump-qemu-121-2026_01_02-03_04_05.vma.zst;touch pwned',
      '$(touch pwned)',
      '`touch pwned`',
      "'; touch pwned; echo '",
      "it's a \"quoted\" name",
      'a\ntouch pwned',
      'a && touch pwned || touch pwned',
      '| touch pwned',
      '> pwned',
      '$HOME ${PATH} $0 $$',
      '*',
      '?[a-z]*',
      '-rf',
      '--force=1 --unique',
      '~',
      '\\\'\\"\\\\',
      '',
      '   ',
      'tab\there',
      '!!',
      'héllo — ünïcode ✓',
      '#comment',
      'a\r\nb',
    ];

    for (const value of hostile) {
      it(`prints ${JSON.stringify(value)} back byte for byte and runs nothing`, () => {
        const out = throughShell(quoteArg(value), dir);
        assert.equal(out, value + '\n');
        assert.equal(existsSync(path.join(dir, 'pwned')), false, 'a command hidden in the value ran');
      });
    }

    it('a whole command line keeps every hostile argument as exactly one argument', () => {
      const line = commandLine({ program: 'printf', args: ['%s|', ...hostile] });
      const out = execFileSync('/bin/sh', ['-c', line], { cwd: dir, encoding: 'utf8' });
      assert.equal(out, hostile.map((h) => `${h}|`).join(''));
      assert.equal(existsSync(path.join(dir, 'pwned')), false);
    });

    it('the control test: the same string unquoted does execute (so the test above can fail)', () => {
      execFileSync('/bin/sh', ['-c', 'printf "%s\\n" $(touch pwned)'], { cwd: dir });
      assert.equal(existsSync(path.join(dir, 'pwned')), true);
    });
  });
});
