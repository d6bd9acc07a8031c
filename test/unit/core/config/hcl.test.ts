import * as assert from 'node:assert/strict';
import { parseHcl } from '../../../../src/core';
import { asString, entry, objectEntries, type HclValue } from '../../../../src/core/config/hcl';

/** Plain JS value of an HclValue, for compact assertions. */
function plain(v: HclValue | undefined): unknown {
  switch (v?.kind) {
    case undefined: return undefined;
    case 'object': return Object.fromEntries(v.entries.map((e) => [e.key, plain(e.value)]));
    case 'tuple': return v.items.map(plain);
    case 'null': return null;
    case 'expression': return { expr: v.text };
    case 'string': case 'number': case 'bool': return v.value;
  }
}

describe('HCL evaluation on tricky input', () => {
  it('reads comments of every style, nested maps and lists of objects', async () => {
    const doc = await parseHcl([
      '# hash comment',
      '// slash comment',
      '/* block',
      '   comment */',
      'vms = {',
      '  "k3s-test" = { ip = "10.0.0.1", tags = ["a", "b"] } # trailing',
      '  plain_key = {',
      '    nested = { deeper = { value = 3.5 } }',
      '  }',
      '}',
      'nodes = [',
      '  { name = "alpha", ip = "10.0.0.10" },',
      '  { name = "beta",  ip = "10.0.0.11" },',
      ']',
      'flags = { on = true, off = false, none = null }',
    ].join('\n'));
    assert.deepEqual(doc.errors, []);
    const top = doc.body.attributes;
    assert.deepEqual(plain(entry(top, 'vms')?.value), {
      'k3s-test': { ip: '10.0.0.1', tags: ['a', 'b'] },
      plain_key: { nested: { deeper: { value: 3.5 } } },
    });
    assert.deepEqual(plain(entry(top, 'nodes')?.value), [{ name: 'alpha', ip: '10.0.0.10' }, { name: 'beta', ip: '10.0.0.11' }]);
    assert.deepEqual(plain(entry(top, 'flags')?.value), { on: true, off: false, none: null });
    // Positions are those of the source: the "k3s-test" key is on line 5 (zero-based).
    assert.equal(objectEntries(entry(top, 'vms')?.value)[0]?.keyRange.start.line, 5);
  });

  it('reads heredocs, including the indented form', async () => {
    const doc = await parseHcl('a = <<EOT\nline one\n  line two\nEOT\nb = <<-EOT\n    x\n      y\n    EOT\n');
    assert.deepEqual(doc.errors, []);
    assert.equal(asString(entry(doc.body.attributes, 'a')?.value), 'line one\n  line two\n');
    assert.equal(asString(entry(doc.body.attributes, 'b')?.value), 'x\n  y\n');
  });

  it('keeps shell placeholders as text and positions after them right', async () => {
    const doc = await parseHcl('p = "${MINIO_ROOT_PASSWORD:?required}" # c\nq = 1\n');
    assert.deepEqual(doc.errors, []);
    const p = entry(doc.body.attributes, 'p');
    assert.equal(asString(p?.value), '${MINIO_ROOT_PASSWORD:?required}');
    assert.equal(p?.value.range.end.column, 'p = "${MINIO_ROOT_PASSWORD:?required}"'.length);
  });

  it('unescapes strings and keeps non-literal expressions as text', async () => {
    const doc = await parseHcl('s = "a\\"b\\\\c\\n$${x}"\nref = var.other\ncall = upper("x")\ninterp = "x-${var.y}"\n');
    assert.deepEqual(doc.errors, []);
    const top = doc.body.attributes;
    assert.equal(asString(entry(top, 's')?.value), 'a"b\\c\n${x}');
    assert.deepEqual(plain(entry(top, 'ref')?.value), { expr: 'var.other' });
    assert.deepEqual(plain(entry(top, 'call')?.value), { expr: 'upper("x")' });
    assert.deepEqual(plain(entry(top, 'interp')?.value), { expr: '"x-${var.y}"' });
  });

  it('reads blocks with labels', async () => {
    const doc = await parseHcl('terraform {\n  backend "s3" {\n    bucket = "b"\n  }\n}\nmodule "minio" {\n  source = "../m"\n}\n');
    assert.deepEqual(doc.errors, []);
    const [tf, mod] = doc.body.blocks;
    assert.equal(tf?.type, 'terraform');
    assert.deepEqual([tf?.body.blocks[0]?.type, tf?.body.blocks[0]?.labels], ['backend', ['s3']]);
    assert.deepEqual([mod?.type, mod?.labels], ['module', ['minio']]);
  });

  it('reports an unclosed object with the line where the parser gave up', async () => {
    const doc = await parseHcl('a = 1\nb = {\n  c = 2\n');
    assert.ok(doc.errors.length > 0);
    assert.ok((doc.errors[0]?.position.line ?? -1) >= 1);
  });

  it('an empty file is an empty body, not an error', async () => {
    const doc = await parseHcl('');
    assert.deepEqual([doc.errors.length, doc.body.attributes.length], [0, 0]);
  });
});
