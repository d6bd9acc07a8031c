import * as assert from 'node:assert/strict';
import { childrenOf, getApi, poll, type LifeboatApi } from './helpers';

const ENVIRONMENTS = ['lab', 'monitoring', 'prod'];

describe('Recovery explorer', () => {
  let api: LifeboatApi;

  before(async () => {
    api = await getApi();
  });

  /** Discovery runs in the background after activation: retry until the environments are there. */
  async function environments() {
    return poll(
      () => childrenOf(api.recoveryTree),
      (items) => ENVIRONMENTS.every((env) => items.some((i) => i.label === env)),
      20_000,
    );
  }

  it('lists the three environments of the fixture at the top level', async () => {
    const items = await environments();
    // The extension chooses the order; the set is what the fixture defines.
    const labels = items.map((i) => i.label);
    assert.deepEqual([...labels].sort(), ENVIRONMENTS, `top-level items: ${JSON.stringify(labels)}`);
  });

  it('shows environments as expandable items', async () => {
    for (const { label, item } of await environments()) {
      assert.ok(item.collapsibleState !== undefined && item.collapsibleState !== 0, `${label} should be expandable`);
    }
  });

  it('shows node alpha when prod is expanded', async () => {
    const prod = (await environments()).find((i) => i.label === 'prod');
    assert.ok(prod, 'prod environment');
    const children = await poll(
      () => childrenOf(api.recoveryTree, prod.element),
      (items) => items.some((i) => i.label === 'alpha'),
      10_000,
    );
    assert.ok(
      children.some((i) => i.label === 'alpha'),
      `children of prod: ${JSON.stringify(children.map((i) => i.label))}`,
    );
  });

  it('counts each environment\'s declared guests, the monitoring VM and the MinIO container of the monitoring blocks included', async () => {
    const items = await environments();
    const description = (env: string) => String(items.find((i) => i.label === env)?.item.description ?? '');
    assert.match(description('prod'), /\b4 guests\b/);
    assert.match(description('lab'), /\b2 guests\b/);
    assert.match(description('monitoring'), /\b2 guests\b/, 'the monitoring VM and the MinIO container');
  });
});
