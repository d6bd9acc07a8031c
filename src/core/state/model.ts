/**
 * Terraform state (format v4) as Lifeboat reads it: validated with zod, summarised into the
 * metadata the explorer and the CLI show next to each version (serial, lineage, resources…).
 */
import { z } from 'zod';

const InstanceSchema = z.object({
  index_key: z.union([z.string(), z.number()]).optional(),
  schema_version: z.number().optional(),
  attributes: z.record(z.unknown()).optional(),
}).passthrough();

const ResourceSchema = z.object({
  module: z.string().optional(),
  mode: z.enum(['managed', 'data']),
  type: z.string().min(1),
  name: z.string().min(1),
  provider: z.string().optional(),
  instances: z.array(InstanceSchema),
}).passthrough();

export const StateV4Schema = z.object({
  version: z.literal(4),
  terraform_version: z.string(),
  serial: z.number().int().nonnegative(),
  lineage: z.string().min(1),
  outputs: z.record(z.object({ value: z.unknown() }).passthrough()).default({}),
  resources: z.array(ResourceSchema),
}).passthrough();

export type TerraformStateV4 = z.infer<typeof StateV4Schema>;
export type StateResourceV4 = z.infer<typeof ResourceSchema>;

/** What one version holds, read lazily and cached per version id. */
export interface StateMeta {
  readonly valid: boolean;
  /** Why the version is not a usable state (invalid JSON, not v4…), when not valid. */
  readonly invalidReason: string | undefined;
  readonly serial: number | undefined;
  readonly lineage: string | undefined;
  readonly terraformVersion: string | undefined;
  /** Resource instances (`module.vms["gitea"].proxmox_virtual_environment_vm.this`…), managed and data. */
  readonly resourceCount: number;
  readonly outputNames: readonly string[];
  readonly sizeBytes: number;
  /** The Proxmox guests the version manages (`vm_id` attributes), to compare with the nodes. */
  readonly guests: readonly StateGuestRef[];
}

/** A guest a state version manages: its resource address and the VMID Terraform recorded. */
export interface StateGuestRef {
  readonly address: string;
  readonly vmid: number;
  readonly node: string | undefined;
  readonly name: string | undefined;
}

export type ParsedState =
  | { readonly ok: true; readonly state: TerraformStateV4 }
  | { readonly ok: false; readonly reason: string };

export function parseState(body: Buffer | string): ParsedState {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  if (text.trim() === '') return { ok: false, reason: 'empty object' };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `not valid JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (typeof json === 'object' && json !== null && 'version' in json && (json as { version: unknown }).version !== 4) {
    return { ok: false, reason: `state format version ${String((json as { version: unknown }).version)}, expected 4` };
  }
  const r = StateV4Schema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    return { ok: false, reason: `not a Terraform state v4: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}` };
  }
  return { ok: true, state: r.data };
}

export function stateMeta(body: Buffer): StateMeta {
  const parsed = parseState(body);
  if (!parsed.ok) {
    // Serial and lineage may still be readable from a truncated object: show them, flagged invalid.
    const text = body.toString('utf8');
    const serial = /"serial"\s*:\s*(\d+)/.exec(text)?.[1];
    const lineage = /"lineage"\s*:\s*"([^"]+)"/.exec(text)?.[1];
    return { valid: false, invalidReason: parsed.reason, serial: serial === undefined ? undefined : Number(serial), lineage, terraformVersion: undefined, resourceCount: 0, outputNames: [], sizeBytes: body.length, guests: [] };
  }
  const s = parsed.state;
  return {
    valid: true,
    invalidReason: undefined,
    serial: s.serial,
    lineage: s.lineage,
    terraformVersion: s.terraform_version,
    resourceCount: resourceCount(s),
    outputNames: Object.keys(s.outputs).sort(),
    sizeBytes: body.length,
    guests: stateGuests(s),
  };
}

/**
 * How many resources a state holds, counted the one way every surface shows it (the explorer, the
 * CLI's --list and --show, the restore plan): resource instances, so `module.vms["gitea"]` and
 * `module.vms["nextcloud"]` are two, managed and data sources alike.
 */
export function resourceCount(state: TerraformStateV4): number {
  return instanceAddresses(state).length;
}

/** Proxmox guests a state version manages (`vm_id` attributes of the bpg resources). */
export function stateGuests(state: TerraformStateV4): StateGuestRef[] {
  return instances(state)
    .filter((i) => i.resource.mode === 'managed' && typeof i.attributes['vm_id'] === 'number')
    .map((i) => ({
      address: i.address,
      vmid: i.attributes['vm_id'] as number,
      node: typeof i.attributes['node_name'] === 'string' ? i.attributes['node_name'] : undefined,
      name: typeof i.attributes['name'] === 'string' ? i.attributes['name'] : typeof i.attributes['description'] === 'string' ? i.attributes['description'] : undefined,
    }));
}

/** `module.vms["gitea"].proxmox_virtual_environment_vm.this`, `data.x.y`, with `[index]` for count/for_each. */
export function resourceAddress(r: StateResourceV4, indexKey?: string | number): string {
  const base = `${r.module ? `${r.module}.` : ''}${r.mode === 'data' ? 'data.' : ''}${r.type}.${r.name}`;
  if (indexKey === undefined) return base;
  return `${base}[${typeof indexKey === 'number' ? indexKey : JSON.stringify(indexKey)}]`;
}

/** Every resource instance of a state with its address and attributes. */
export function instances(state: TerraformStateV4): { address: string; resource: StateResourceV4; attributes: Record<string, unknown> }[] {
  const out: { address: string; resource: StateResourceV4; attributes: Record<string, unknown> }[] = [];
  for (const r of state.resources) {
    if (r.instances.length === 0) out.push({ address: resourceAddress(r), resource: r, attributes: {} });
    for (const i of r.instances) out.push({ address: resourceAddress(r, i.index_key), resource: r, attributes: i.attributes ?? {} });
  }
  return out;
}

export function instanceAddresses(state: TerraformStateV4): string[] {
  return instances(state).map((i) => i.address);
}

/** The state as Terraform writes it (two-space JSON and a final newline). */
export function serializeState(state: TerraformStateV4): Buffer {
  return Buffer.from(JSON.stringify(state, null, 2) + '\n');
}
