import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { looksLikeRunbook } from '../../../../src/core/runbook/detect';
import { parseRunbook } from '../../../../src/core/runbook/parse';

const fixtures = path.resolve(__dirname, '../../../fixtures');
const offered = (file: string, text: string) => looksLikeRunbook(file, parseRunbook(text, { fileName: path.basename(file) }));

const outline = '# Recover the proxy\n\n## Check the certificates\n\n```sh\nls /etc/ssl\n```\n\n## Restart the service\n\n```sh\nsystemctl restart caddy\n```\n';
const install = '# My tool\n\n## Install\n\n```sh\nnpm install my-tool\n```\n\n## Build\n\n```sh\nnpm run build\n```\n\n## License\n\nMIT\n';

describe('which Markdown files are offered as a checklist', () => {
  it('the samples, numbered (in English and French) and outline-only runbooks', () => {
    assert.equal(offered('/repo/docs/DISASTER-RECOVERY.md', readFileSync(path.join(fixtures, 'homelab/docs/DISASTER-RECOVERY.md'), 'utf8')), true);
    assert.equal(offered('/repo/docs/RESTAURATION-PARTIELLE.md', readFileSync(path.join(fixtures, 'homelab/docs/RESTAURATION-PARTIELLE.md'), 'utf8')), true);
    assert.equal(offered('/repo/ops/restore-proxy.md', readFileSync(path.join(fixtures, 'runbooks/numbered.md'), 'utf8')), true, 'numbered steps: anywhere');
    assert.equal(offered('/repo/docs/proxy.md', outline), true, 'an outline runbook under docs/');
    assert.equal(offered('/repo/ops/proxy.md', outline), true, 'an outline whose title says recover');
    assert.equal(offered('/repo/ops/runbook-proxy.md', outline.replace('Recover the proxy', 'Proxy')), true, 'an outline whose file name says runbook');
  });

  it('not a README or a how-to with code blocks, nor a document without commands or with one step', () => {
    assert.equal(offered('/repo/README.md', install), false);
    assert.equal(offered('/repo/notes/setup.md', install), false, 'an outline elsewhere, no runbook word');
    assert.equal(offered('/repo/README.md', '# My tool\n\n## Step 1 — Install\n\n```sh\nnpm i\n```\n\n## Step 2 — Use\n\n```sh\nmy-tool\n```\n'), false, 'numbered steps in a README');
    assert.equal(offered('/repo/README.md', '# Disaster recovery\n\n## Step 1 — Restore\n\n```sh\n./restore.sh\n```\n\n## Step 2 — Check\n\n```sh\n./check.sh\n```\n'), true, 'unless its title says runbook');
    assert.equal(offered('/repo/docs/ARCHITECTURE.md', '# Architecture\n\n## Layers\n\nText.\n\n## Build\n\n```sh\nnpm run build\n```\n'), false, 'one step with commands');
    assert.equal(offered('/repo/docs/runbook.md', '# Runbook\n\n## Step 1 — Call Bob\n\n- [ ] called\n\n## Step 2 — Wait\n\nWait.\n'), false, 'no commands at all');
    assert.equal(offered('/repo/docs/x.md', '# Restore\n\n## Step 1 — Only step\n\n```sh\necho a\n```\n'), false, 'a single step');
  });
});
