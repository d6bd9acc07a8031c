/**
 * The built `lifeboat` (dist/cli.js, made by `npm run build`, which `npm test` runs first) as an
 * operator runs it, on the sample repository: what `environments` finds, usage errors, colour, and
 * output cut short by a pipe.
 */
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../../..');
const cli = path.join(root, 'dist/cli.js');
const sample = path.join(root, 'test/fixtures/homelab');

function lifeboat(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: sample, encoding: 'utf8', env: { ...process.env, LANG: 'C', LC_ALL: '', ...env }, timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Discovered {
  nodes: { name: string; host: string }[];
  environments: {
    name: string;
    nodes: { name: string }[];
    guests: { name: string; kind: string }[];
    backend: { type: string; bucket?: string; endpoint?: string; useLockfile?: boolean; commentedOutS3?: { bucket: string } };
    minio?: { endpoint: string; rootPassword: { redacted: boolean; source: { kind: string; variable?: string } } };
  }[];
}

describe('lifeboat (the built CLI)', () => {
  before(function () {
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`);
  });

  it('environments --json in the sample repository: prod, lab and monitoring with their nodes, guests, MinIO and state backends', () => {
    const r = lifeboat(['environments', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const found = JSON.parse(r.stdout) as Discovered;
    assert.deepEqual(found.nodes.map((n) => `${n.name}=${n.host}`), ['alpha=10.20.0.10', 'beta=10.20.0.11', 'gamma=10.20.0.12']);
    const env = (name: string) => found.environments.find((e) => e.name === name)!;
    assert.deepEqual(found.environments.map((e) => e.name).sort(), ['lab', 'monitoring', 'prod']);
    assert.deepEqual(env('prod').guests.map((g) => `${g.name}:${g.kind}`), ['gitea:vm', 'nextcloud:vm', 'postgres:container', 'dns:container']);
    assert.deepEqual(env('lab').guests.map((g) => g.name), ['k3s-test', 'sandbox']);
    assert.deepEqual(env('prod').backend, { ...env('prod').backend, type: 's3', bucket: 'tfstate-prod', endpoint: 'http://10.20.0.52:9000', useLockfile: true });
    assert.equal(env('monitoring').backend.type, 'local', 'the commented-out backend is read as local');
    assert.equal(env('monitoring').backend.commentedOutS3?.bucket, 'tfstate-monitoring');
    assert.equal(env('monitoring').minio?.endpoint, 'http://10.20.0.52:9000');
    assert.deepEqual(env('monitoring').minio?.rootPassword.source, { kind: 'environment', variable: 'MINIO_ROOT_PASSWORD', required: true });
  });

  it('never prints a secret: the API tokens and passwords of the sample stay out of every output', () => {
    // The sample's API tokens and node token values, and the MinIO password its placeholder names.
    const secrets = ['00000000-0000-0000-0000-000000000000', '00000000-0000-0000-0000-000000000002', '00000000-0000-0000-0000-00000000000a', 'supersecret-from-env'];
    for (const args of [['environments'], ['environments', '--json']]) {
      const r = lifeboat(args, { MINIO_ROOT_PASSWORD: 'supersecret-from-env' });
      assert.equal(r.code, 0, r.stderr);
      for (const s of secrets) assert.ok(!r.stdout.includes(s) && !r.stderr.includes(s), `${args.join(' ')} printed ${s}`);
    }
  });

  it('usage errors exit 2 with a usage line: unknown option, unknown command, missing argument, no command', () => {
    for (const args of [['environments', '--bogus'], ['frobnicate'], ['restore-vm'], ['restore-vm', '12x'], []]) {
      const r = lifeboat(args);
      assert.equal(r.code, 2, `lifeboat ${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
      assert.match(r.stdout + r.stderr, /Usage: lifeboat/);
    }
  });

  it('--version prints the package version and exits 0', () => {
    const r = lifeboat(['--version']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version);
  });

  it('no colour codes when output is not a terminal', () => {
    const r = lifeboat(['environments']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes('\u001b['), 'an ANSI escape in the output');
  });

  it('a reader that stops early (lifeboat … | head -1) ends quietly: exit 0, no EPIPE trace', async () => {
    const child = spawn(process.execPath, [cli, 'environments'], { cwd: sample, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Like `head -1`: read the first chunk, then close the pipe while the CLI still writes.
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /EPIPE|Unhandled 'error' event/);
  });
});
