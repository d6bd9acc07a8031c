import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { glob } from 'tinyglobby';

const root = path.resolve(__dirname, '../../..');

/** Every string literal passed to `l10n.t(...)` (extension) or `t(...)` (CLI) in the given folders. */
async function messages(patterns: string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const file of await glob(patterns, { cwd: root, absolute: true })) {
    const text = await fs.readFile(file, 'utf8');
    for (const m of text.matchAll(/(?:\bl10n\.t|(?<![\w.])t|(?<![\w.])msg)\(\s*'((?:[^'\\]|\\.)*)'/g)) {
      found.set(m[1]!.replace(/\\'/g, "'"), path.relative(root, file));
    }
  }
  return found;
}

describe('translations', () => {
  it('every user-facing string (extension, CLI, and the core\'s msg() sentences) has a French translation', async () => {
    const fr = JSON.parse(await fs.readFile(path.join(root, 'l10n/bundle.l10n.fr.json'), 'utf8')) as Record<string, string>;
    const all = await messages(['src/extension/**/*.ts', 'src/cli/**/*.ts', 'src/shared/**/*.ts', 'src/core/**/*.ts', 'src/adapters/**/*.ts']);
    assert.ok(all.size > 20, `expected many messages, found ${all.size}`);
    const missing = [...all].filter(([msg]) => !(msg in fr)).map(([msg, file]) => `${file}: ${msg}`);
    assert.deepEqual(missing, []);
  });

  it('the French bundle names each English string once (a duplicate key silently drops a translation)', async () => {
    const text = await fs.readFile(path.join(root, 'l10n/bundle.l10n.fr.json'), 'utf8');
    const keys = [...text.matchAll(/^\s*("(?:[^"\\]|\\.)*")\s*:/gm)].map((m) => JSON.parse(m[1]!) as string);
    assert.ok(keys.length > 100, `found ${keys.length} keys`);
    assert.deepEqual(keys.filter((k, i) => keys.indexOf(k) !== i), []);
  });

  it('French translations keep every {n} placeholder of the English text', async () => {
    const fr = JSON.parse(await fs.readFile(path.join(root, 'l10n/bundle.l10n.fr.json'), 'utf8')) as Record<string, string>;
    const holes = (s: string) => [...s.matchAll(/\{\d+\}/g)].map((m) => m[0]).sort();
    const broken = Object.entries(fr).filter(([en, tr]) => holes(en).join() !== holes(tr).join()).map(([en]) => en);
    assert.deepEqual(broken, []);
  });

  it('the manifest strings exist in English and French, and only those', async () => {
    const manifest = await fs.readFile(path.join(root, 'package.json'), 'utf8');
    const keys = [...new Set([...manifest.matchAll(/"%([^%"]+)%"/g)].map((m) => m[1]!))].sort();
    for (const file of ['package.nls.json', 'package.nls.fr.json']) {
      const nls = JSON.parse(await fs.readFile(path.join(root, file), 'utf8')) as Record<string, string>;
      assert.deepEqual(Object.keys(nls).sort(), keys, file);
    }
  });
});
