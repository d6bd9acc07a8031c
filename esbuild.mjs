// @ts-check
// Builds every bundle: the extension (Node, CommonJS, `vscode` external), the CLI, the runbook
// webview (browser), the extension-host test suite and the simulated homelab's tools.
// Usage: node esbuild.mjs [--watch] [--production]
import * as esbuild from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

/** ssh2 ships optional native add-ons (cpu-features, sshcrypto.node); esbuild cannot bundle
 *  `.node` files, and ssh2 falls back to pure JS when they are missing (mscdex/ssh2#1333). */
const nativeOptional = ['cpu-features', '*.node'];

/** @type {esbuild.BuildOptions} */
const nodeCommon = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: !production,
  minify: production,
  logLevel: 'info',
  external: ['vscode', ...nativeOptional],
  // web-tree-sitter looks for tree-sitter.wasm next to the bundle; see copyWasm().
  define: { 'import.meta.url': 'importMetaUrl' },
  banner: { js: "const importMetaUrl = require('url').pathToFileURL(__filename).href;" },
};

/** @type {esbuild.BuildOptions[]} */
const builds = [
  { ...nodeCommon, entryPoints: { extension: 'src/extension/extension.ts' }, outdir: 'dist' },
  {
    ...nodeCommon,
    entryPoints: { cli: 'src/cli/main.ts' },
    outdir: 'dist',
    banner: { js: '#!/usr/bin/env node\n' + nodeCommon.banner?.js },
  },
];

// What is never packaged: the extension-host test suite and the simulated homelab (lab/).
if (!production) {
  builds.push({
    ...nodeCommon,
    entryPoints: { 'test/host/index': 'test/host/suite/index.ts', ...(existsSync('test/host/lab/index.ts') ? { 'test/host/labIndex': 'test/host/lab/index.ts' } : {}) },
    outdir: 'out',
    external: [...(nodeCommon.external ?? []), 'mocha'],
  });
}

if (existsSync('webview/main.ts')) {
  builds.push({
    entryPoints: { webview: 'webview/main.ts' },
    outdir: 'dist',
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    sourcemap: !production,
    minify: production,
    logLevel: 'info',
  });
}

// The simulated homelab (lab/) contributes its own entry points.
if (!production && existsSync('lab/build.mjs')) {
  const lab = await import('./lab/build.mjs');
  builds.push(...lab.builds(nodeCommon));
}

async function copyWasm() {
  await mkdir('dist', { recursive: true });
  const files = [
    require.resolve('web-tree-sitter/tree-sitter.wasm'),
    require.resolve('@tree-sitter-grammars/tree-sitter-hcl/tree-sitter-hcl.wasm'),
  ];
  for (const file of files) await copyFile(file, path.join('dist', path.basename(file)));
}

await copyWasm();
if (watch) {
  for (const options of builds) await (await esbuild.context(options)).watch();
} else {
  // Every bundle is attempted, so one broken bundle does not hide the state of the others.
  const results = await Promise.allSettled(builds.map((options) => esbuild.build(options)));
  if (results.some((r) => r.status === 'rejected')) process.exit(1);
}
