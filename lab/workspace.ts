/**
 * `.lab/workspace/`: a copy of the sample operator repository (../shared/examples/homelab) whose
 * endpoints point at the lab. Only the known addresses of the cluster's nodes and guests are
 * rewritten (10.20.0.X -> 127.20.0.X), textually, so comments and layout stay the operator's.
 */
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ClusterSpec } from './pve/spec';

/** operator address -> lab address, for every node and guest of the cluster. */
export function addressMap(spec: ClusterSpec): Map<string, string> {
  const map = new Map<string, string>();
  for (const n of spec.nodes) map.set(n.address, n.labAddress);
  for (const g of spec.guests) map.set(g.address, g.labAddress);
  return map;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Replaces each known address where it stands as a whole address (not 10.20.0.1 inside 10.20.0.10). */
export function rewriteAddresses(text: string, map: ReadonlyMap<string, string>): string {
  if (map.size === 0) return text;
  const keys = [...map.keys()].sort((a, b) => b.length - a.length);
  const re = new RegExp(`(?<![\\d.])(${keys.map(escape).join('|')})(?![\\d])`, 'g');
  return text.replace(re, (m) => map.get(m) ?? m);
}

/** Files whose addresses are rewritten (configuration, not prose). */
export const REWRITTEN = /\.(tf|tfvars|hcl)$/;

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = path.join(dir, e);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

/** Copies `sampleDir` to `destDir` (replaced) and rewrites the addresses; returns the rewritten files. */
export function writeWorkspace(sampleDir: string, destDir: string, spec: ClusterSpec): string[] {
  if (!existsSync(sampleDir)) throw new Error(`sample repository not found: ${sampleDir}`);
  rmSync(destDir, { recursive: true, force: true });
  cpSync(sampleDir, destDir, { recursive: true });
  const map = addressMap(spec);
  const changed: string[] = [];
  for (const file of walk(destDir)) {
    if (!REWRITTEN.test(file)) continue;
    const before = readFileSync(file, 'utf8');
    const after = rewriteAddresses(before, map);
    if (after !== before) {
      writeFileSync(file, after);
      changed.push(path.relative(destDir, file));
    }
  }
  return changed.sort();
}
