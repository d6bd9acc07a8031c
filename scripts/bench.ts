/**
 * `npm run bench`: measures the design choices that make Lifeboat fast enough in an outage, side by
 * side on the same simulated homelab, and prints ratios (never used as test assertions):
 *
 *   1. reading the inventory of every node in parallel vs one node after another;
 *   2. one SSH connection per node, reused and multiplexed, vs a new connection per command;
 *   3. discovery of the repository (tree-sitter HCL) vs the inventory over SSH, for scale.
 *
 * It starts the lab at benchmark scale (3 nodes × 100 guests × 30 backups) unless one is running,
 * and stops it again if it started it. Usage: npm run bench [-- --rounds N]
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createSshPool, sshOptionsFromEnv } from '../src/adapters/ssh';
import { discoverEnvironments, homelabNodes, loadInventory, silentLog, type NodeAddress } from '../src/core';
import { down, labPaths, readEnvFile, up } from '../lab/lab';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' } } });
const rounds = Math.max(1, Number(values.rounds));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function measure(name: string, fn: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) samples.push(await time(fn));
  const m = median(samples);
  console.log(`  ${name.padEnd(58)} ${m.toFixed(0).padStart(7)} ms  (median of ${rounds}: ${samples.map((x) => x.toFixed(0)).join(', ')})`);
  return m;
}

function ratio(label: string, slow: number, fast: number): void {
  console.log(`  → ${label}: ${(slow / fast).toFixed(2)}×`);
}

async function main(): Promise<void> {
  const p = labPaths();
  const running = existsSync(p.ready);
  if (!running) {
    console.log('Starting the lab at benchmark scale (3 nodes × 100 guests × 30 backups)…');
    await up({ mode: 'openssh', timeScale: 0.02, scale: { nodes: 3, guests: 100, backups: 30 } }, p);
  } else {
    console.log('Using the running lab (its scale is whatever it was started with).');
  }
  try {
    const env = { ...process.env, ...readEnvFile(p) };
    const discovery = await discoverEnvironments({ root: p.workspace, env });
    const nodes: NodeAddress[] = homelabNodes(discovery.environments).map((n) => ({ name: n.name, host: n.host! }));
    const ready = JSON.parse(readFileSync(p.ready, 'utf8')) as { guests?: number; nodes: unknown[] };
    console.log(`Lab: ${nodes.length} nodes (${nodes.map((n) => n.name).join(', ')})${ready.guests ? `, ${ready.guests} guests` : ''}; workspace ${path.relative(process.cwd(), p.workspace)}\n`);
    const pool = () => createSshPool({ ...sshOptionsFromEnv(env), log: silentLog, hostKeyPrompt: async () => false });

    console.log('1. Inventory of every node (guests, storages, every backup listing, jobs)');
    const shared = pool();
    await loadInventory({ nodes, pool: shared, log: silentLog }); // warm the connections
    const parallel = await measure('all nodes in parallel (what Lifeboat does)', () => loadInventory({ nodes, pool: shared, log: silentLog }));
    const sequential = await measure('one node after another', async () => {
      for (const n of nodes) await loadInventory({ nodes: [n], pool: shared, log: silentLog });
    });
    ratio('parallel is faster by', sequential, parallel);
    const inv = await loadInventory({ nodes, pool: shared, log: silentLog });
    console.log(`  (${inv.guests.length} guests, ${inv.backups.length} backups read)\n`);

    console.log('2. 20 remote commands on one node');
    const node = nodes[0]!;
    const command = 'pvesh get /cluster/resources --type vm --output-format json';
    const reused = await measure('one connection, reused and multiplexed (what Lifeboat does)', () => Promise.all(Array.from({ length: 20 }, () => shared.shell(node).exec(command))));
    const fresh = await measure('a new SSH connection per command', async () => {
      for (let i = 0; i < 20; i++) {
        const once = pool();
        try {
          await once.shell(node).exec(command);
        } finally {
          once.dispose();
        }
      }
    });
    ratio('a reused connection is faster by', fresh, reused);
    shared.dispose();
    console.log('');

    console.log('3. For scale: what happens before any network access');
    const disc = await measure('discovery of the repository (tree-sitter HCL)', () => discoverEnvironments({ root: p.workspace, env }));
    ratio('the parallel inventory costs this many discoveries', parallel, disc);
  } finally {
    if (!running) {
      await down(p, { quiet: true });
      console.log('\nLab stopped.');
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
