/**
 * The "Done when" over Debian's OpenSSH: the lab's nodes answer the real `ssh` client with
 * the lab's config, keys and known_hosts, and run the simulated Proxmox tools.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ensureLab, type LabContext } from '../../lab/lab';

interface Run { code: number | null; stdout: string; stderr: string }

describe('lab: Proxmox nodes behind OpenSSH', function () {
  this.timeout(120000);
  let lab: LabContext;
  const ssh = (host: string, command: string, extra: string[] = []): Run => {
    const r = spawnSync('ssh', ['-F', lab.env['LIFEBOAT_SSH_CONFIG'] as string, '-o', 'BatchMode=yes', ...extra, host, command], { encoding: 'utf8', env: lab.processEnv, timeout: 60000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  before(async () => {
    lab = await ensureLab();
  });

  it('writes an ssh config, known_hosts and key that the OpenSSH client accepts (StrictHostKeyChecking yes)', () => {
    const config = readFileSync(lab.env['LIFEBOAT_SSH_CONFIG'] as string, 'utf8');
    assert.match(config, /^Host alpha 10\.20\.0\.10 127\.20\.0\.10$/m);
    assert.match(config, /StrictHostKeyChecking yes/);
    const known = readFileSync(lab.env['LIFEBOAT_KNOWN_HOSTS'] as string, 'utf8');
    assert.match(known, /^\[127\.20\.0\.10\]:19022 ssh-ed25519 AAAA/m);
    for (const host of ['alpha', '10.20.0.11', '127.20.0.12']) {
      const r = ssh(host, 'echo ok; echo $PVE_SIM_NODE; command -v pvesh');
      assert.equal(r.code, 0, r.stderr);
      const [ok, node, pvesh] = r.stdout.trim().split('\n');
      assert.equal(ok, 'ok');
      assert.equal(node, { alpha: 'alpha', '10.20.0.11': 'beta', '127.20.0.12': 'gamma' }[host]);
      assert.equal(pvesh, path.join(lab.paths.nodes, node as string, 'bin', 'pvesh'));
    }
  });

  it('lists the sample guests with pvesh get /cluster/resources --type vm --output-format json on alpha', () => {
    const r = ssh('alpha', 'pvesh get /cluster/resources --type vm --output-format json');
    assert.equal(r.code, 0, r.stderr);
    const list = JSON.parse(r.stdout) as { vmid: number; name: string; type: string; node: string; status: string; id: string }[];
    const got = list.map((g) => `${g.vmid} ${g.name} ${g.type} ${g.node}`).sort();
    assert.deepEqual(got, ['121 gitea qemu alpha', '122 nextcloud qemu alpha', '131 postgres lxc alpha', '132 dns lxc alpha', '201 k3s-test qemu beta', '202 sandbox qemu beta', '301 monitoring qemu gamma', '302 minio lxc gamma']);
    for (const g of list) assert.equal(g.id, `${g.type}/${g.vmid}`);
  });

  it('refuses qmrestore of a real archive onto an existing VMID without --force (reference message, exit 255)', () => {
    const list = ssh('alpha', 'pvesh get /nodes/alpha/storage/backups/content --content backup --vmid 121 --output-format json');
    assert.equal(list.code, 0, list.stderr);
    const backups = JSON.parse(list.stdout) as { volid: string; vmid: number }[];
    assert.ok(backups.length >= 14, `${backups.length} gitea backups`);
    const volid = backups[backups.length - 1]?.volid as string;
    assert.match(volid, /^backups:backup\/vzdump-qemu-121-\d{4}_\d\d_\d\d-\d\d_\d\d_\d\d\.vma\.zst$/);
    const r = ssh('alpha', `qmrestore ${volid} 121`);
    assert.equal(r.code, 255);
    assert.match(r.stderr, /unable to restore VM 121 - VM 121 already exists on node 'alpha'/);
  });

  it('the newest nextcloud archive is really corrupt: zstd -t fails on the node, an older one passes', () => {
    const list = ssh('alpha', 'pvesh get /nodes/alpha/storage/backups/content --content backup --vmid 122 --output-format json');
    assert.equal(list.code, 0, list.stderr);
    const backups = (JSON.parse(list.stdout) as { volid: string; ctime: number }[]).sort((a, b) => a.ctime - b.ctime);
    const newest = backups[backups.length - 1]?.volid as string;
    const older = backups[0]?.volid as string;
    const bad = ssh('alpha', `zstd -q -t "$(pvesm path ${newest})"`);
    assert.notEqual(bad.code, 0, 'zstd -t must fail on the corrupt archive');
    const good = ssh('alpha', `zstd -q -t "$(pvesm path ${older})"`);
    assert.equal(good.code, 0, good.stderr);
  });

  it('refuses a node whose host key is not the known one', () => {
    const known = readFileSync(lab.env['LIFEBOAT_KNOWN_HOSTS'] as string, 'utf8').split('\n');
    // alpha's entry carrying beta's key.
    const beta = known.find((l) => l.startsWith('[127.20.0.11]'))?.split(' ').slice(1).join(' ');
    const wrong = path.join(lab.paths.lab, 'known_hosts.wrong');
    writeFileSync(wrong, `[127.20.0.10]:19022 ${beta}\n`);
    const r = ssh('alpha', 'true', ['-o', `UserKnownHostsFile=${wrong}`]);
    assert.equal(r.code, 255);
    assert.match(r.stderr, /HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
  });

  it('answers unknown commands like bash (command not found, 127)', () => {
    const r = ssh('beta', 'terraform version');
    assert.equal(r.code, 127);
    assert.match(r.stderr, /terraform: command not found/);
  });
});
