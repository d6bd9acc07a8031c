// A syntax error in a tfvars shows the offending line (in the output channel, the explorer's
// tooltip, the CLI): never the secret on it.
import * as assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { discoverEnvironments, parseHcl } from '../../../../src/core';
import { maskExcerpt } from '../../../../src/core/config/hcl';
import { describeProblem } from '../../../../src/shared/problemText';

const english = (text: string, ...args: (string | number | boolean)[]) => text.replace(/\{(\d+)\}/g, (_, i: string) => String(args[Number(i)]));

describe('config/hcl: syntax error excerpts', () => {
  it('masks the value of a secret key on the offending line, and keeps where the error is', async () => {
    const doc = await parseHcl('minio = {\n  root_user     = "admin"\n  root_password = "S3cretPass" x\n}\n');
    const first = doc.errors[0];
    assert.ok(first, 'a syntax error');
    assert.equal(first.position.line, 2);
    assert.ok(!first.excerpt.includes('S3cretPass'), first.excerpt);
    assert.match(first.excerpt, /^root_password = "«redacted»" x$/);
  });

  it('masks it also when the error is in the value itself (unclosed quote) or the key is quoted', () => {
    assert.equal(maskExcerpt('proxmox_api_token = "root@pam!tf=0000-aaaa'), 'proxmox_api_token = «redacted»');
    assert.equal(maskExcerpt('"root_password" = "S3cretPass" x'), '"root_password" = «redacted»');
    assert.equal(maskExcerpt('token_value = S3cretPass,'), 'token_value = «redacted»,');
  });

  it('leaves lines without a secret as they are', () => {
    assert.equal(maskExcerpt('cores = 2 x'), 'cores = 2 x');
    assert.equal(maskExcerpt('"gitea" = { ip = "10.0.0.21" '), '"gitea" = { ip = "10.0.0.21" ');
  });

  it('discovery reports the problem (what the extension logs and the explorer shows) without the secret', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'lifeboat-hcl-'));
    const dir = path.join(root, 'infrastructure/proxmox/environments/monitoring');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'terraform.tfvars'), 'environment = "monitoring"\nminio = {\n  root_password = "S3cretPass" x\n}\n');
    const discovery = await discoverEnvironments({ root, env: {} });
    const problem = discovery.problems[0];
    assert.ok(problem, 'a problem');
    assert.deepEqual([problem.reason, problem.line], ['syntax', 3]);
    const shown = `${problem.excerpt} ${describeProblem(problem, english)}`;
    assert.ok(!shown.includes('S3cretPass'), shown);
    assert.match(shown, /root_password/);
  });
});
