import * as assert from 'node:assert/strict';
import { defaultHomelab } from '../../lab/homelab';
import { buildStateHistory, ENVIRONMENTS, lineageFor, resourceAddress, type TerraformState } from '../../lab/seed/states';

describe('lab: Terraform state history', () => {
  const spec = defaultHomelab({ now: new Date('2026-03-15T12:00:00Z') });

  for (const env of ENVIRONMENTS) {
    it(`${env}: 5-20 versions, v4 format, one lineage, increasing serials, one invalid, one lost resource`, () => {
      const h = buildStateHistory(spec, env);
      assert.ok(h.length >= 5 && h.length <= 20, `${h.length} versions`);
      assert.equal(h.filter((v) => v.kind === 'invalid-json').length, 1);
      assert.equal(h.filter((v) => v.kind === 'lost-resource').length, 1);
      assert.equal(h[h.length - 1]?.kind, 'current');
      let last = 0;
      for (const v of h) {
        assert.ok(v.serial > last);
        last = v.serial;
        if (v.kind === 'invalid-json') {
          assert.throws(() => JSON.parse(v.body));
          continue;
        }
        const s = JSON.parse(v.body) as TerraformState;
        assert.equal(s.version, 4);
        assert.equal(s.terraform_version, '1.9.8');
        assert.equal(s.serial, v.serial);
        assert.equal(s.lineage, lineageFor(env));
        assert.match(s.lineage, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
        for (const r of s.resources) {
          assert.equal(r.mode, 'managed');
          assert.match(r.type, /^proxmox_virtual_environment_(vm|container)$/);
          assert.equal(r.provider, 'provider["registry.terraform.io/bpg/proxmox"]');
          assert.match(r.module ?? '', /^module\./);
          assert.equal(r.instances.length, 1);
        }
      }
      const current = JSON.parse(h[h.length - 1]!.body) as TerraformState;
      const lost = JSON.parse(h.find((v) => v.kind === 'lost-resource')!.body) as TerraformState;
      assert.equal(lost.resources.length, current.resources.length - 1);
      assert.ok(current.outputs && Object.keys(current.outputs).length > 0);
    });
  }

  it('current versions are consistent with the simulated guests (vm_id, node_name, name, type)', () => {
    for (const env of ENVIRONMENTS) {
      const h = buildStateHistory(spec, env);
      const s = JSON.parse(h[h.length - 1]!.body) as TerraformState;
      for (const r of s.resources) {
        const a = r.instances[0]!.attributes;
        const g = spec.guests.find((x) => x.vmid === a['vm_id']);
        assert.ok(g, `vm_id ${String(a['vm_id'])} exists`);
        assert.equal(a['node_name'], g.node);
        const name = g.type === 'qemu' ? a['name'] : (a['initialization'] as { hostname: string }[])[0]?.hostname;
        assert.equal(name, g.name);
        assert.equal(resourceAddress(env, g).module, r.module);
        assert.equal(r.type, g.type === 'qemu' ? 'proxmox_virtual_environment_vm' : 'proxmox_virtual_environment_container');
      }
    }
  });

  it('uses the addresses a reader expects', () => {
    assert.equal(resourceAddress('prod', { name: 'gitea', type: 'qemu' }).address, 'module.vms["gitea"].proxmox_virtual_environment_vm.this');
    assert.equal(resourceAddress('prod', { name: 'dns', type: 'lxc' }).address, 'module.containers["dns"].proxmox_virtual_environment_container.this');
    assert.equal(resourceAddress('monitoring', { name: 'minio', type: 'lxc' }).address, 'module.minio.proxmox_virtual_environment_container.minio');
    assert.equal(resourceAddress('monitoring', { name: 'monitoring', type: 'qemu' }).address, 'module.monitoring_stack.proxmox_virtual_environment_vm.monitoring');
  });
});
