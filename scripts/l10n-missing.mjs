import { readFileSync } from 'node:fs';
import { glob } from 'tinyglobby';
const fr = JSON.parse(readFileSync('l10n/bundle.l10n.fr.json', 'utf8'));
const found = new Set();
for (const f of await glob(['src/extension/**/*.ts', 'src/cli/**/*.ts', 'src/shared/**/*.ts', 'src/core/**/*.ts'])) {
  for (const m of readFileSync(f, 'utf8').matchAll(/(?:\bl10n\.t|(?<![\w.])t|(?<![\w.])msg)\(\s*'((?:[^'\\]|\\.)*)'/g)) found.add(m[1].replace(/\\'/g, "'"));
}
const missing = [...found].filter((m) => !(m in fr));
console.log(JSON.stringify(Object.fromEntries(missing.map((m) => [m, ''])), null, 1));
