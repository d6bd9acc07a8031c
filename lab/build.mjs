// @ts-check
// Entry points of the simulated homelab (never packaged in the .vsix). Imported by esbuild.mjs.
import { existsSync } from 'node:fs';

const entries = {
  'lab/pve': 'lab/pve/main.ts',             // the Proxmox node tools: node out/lab/pve.cjs <tool> <args...>
  'lab/terraform': 'lab/terraform/main.ts', // the Terraform stand-in
  'lab/lab': 'lab/lab.ts',                  // npm run lab -- up|down|status|fault
};

/** @param {import('esbuild').BuildOptions} nodeCommon */
export function builds(nodeCommon) {
  const present = Object.fromEntries(Object.entries(entries).filter(([, file]) => existsSync(file)));
  if (Object.keys(present).length === 0) return [];
  return [{ ...nodeCommon, entryPoints: present, outdir: 'out', outExtension: { '.js': '.cjs' } }];
}
