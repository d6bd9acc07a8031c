// No vscode import: the documents are unit-tested in plain Node (test/unit/extension/stateDocs.test.ts).
/**
 * The Markdown documents the state commands open: a diff's resource-level summary (with each side
 * compared to the guests the nodes run), the `terraform import` guide for a lost state, and how to
 * turn bucket versioning on. Read-only documents: nothing in them runs by itself.
 */
import type { ImportCommand, InventoryComparison, StateDiff } from '../../core';
import type { Translate } from '../../shared/problemText';

export interface DiffSide {
  readonly label: string;
  readonly versionId: string;
  readonly vsNodes: InventoryComparison | undefined;
}

/** `+1 −0 ~2`: for the diff editor's title. */
export function diffCounts(d: StateDiff): string {
  return `+${d.added.length} −${d.removed.length} ~${d.changed.length}`;
}

export function diffSummaryMarkdown(env: string, from: DiffSide, to: DiffSide, d: StateDiff, t: Translate): string {
  const out = [
    `# ${t('{0} state: {1} → {2}', env, from.label, to.label)}`,
    '',
    `- ${t('From')}: \`${from.versionId}\` (serial ${d.serial.from})`,
    `- ${t('To')}: \`${to.versionId}\` (serial ${d.serial.to})`,
    `- ${t('{0} added, {1} removed, {2} changed, {3} unchanged', d.added.length, d.removed.length, d.changed.length, d.unchanged)}`,
  ];
  if (d.lineageDiffers) out.push('', `> **${t('The lineages differ: these are different state histories.')}**`);
  const section = (title: string, lines: string[]) => {
    out.push('', `## ${title}`, '');
    out.push(...(lines.length ? lines : [`_${t('none')}_`]));
  };
  section(t('Added (in {0}, not in {1})', to.label, from.label), d.added.map((a) => `- \`${a}\``));
  section(t('Removed (in {0}, not in {1})', from.label, to.label), d.removed.map((a) => `- \`${a}\``));
  section(t('Changed'), d.changed.map((c) => `- \`${c.address}\` — ${c.attributes.join(', ')}`));
  if (d.outputs.added.length || d.outputs.removed.length) {
    section(t('Outputs'), [...d.outputs.added.map((o) => `- + \`${o}\``), ...d.outputs.removed.map((o) => `- − \`${o}\``)]);
  }
  out.push('', `## ${t('Compared with the nodes')}`, '');
  if (!from.vsNodes && !to.vsNodes) out.push(t('The nodes have not been read yet: expand an environment\'s node in the Recovery explorer, then compare again.'));
  for (const side of [from, to]) {
    if (!side.vsNodes) continue;
    const c = side.vsNodes;
    out.push(`### ${side.label}`, '');
    if (!c.missingOnNodes.length && !c.missingInState.length) out.push(t('The same guests as the nodes ({0}).', c.matched.length), '');
    for (const r of c.missingOnNodes) out.push(`- ${t('in this version, not on the nodes: {0} (VMID {1}) — Terraform would recreate it', r.address, r.vmid)}`);
    for (const g of c.missingInState) out.push(`- ${t('on the nodes, not in this version: {0} {1} on {2} — Terraform would create a duplicate', g.vmid, g.name ?? '', g.node)}`);
    if (c.missingOnNodes.length || c.missingInState.length) out.push('');
  }
  return out.join('\n').replace(/\n{3,}/g, '\n\n') + '\n';
}

export interface ImportGuideInput {
  readonly env: string;
  readonly dir: string;
  /** Why the state is lost (the refusal's message). */
  readonly reason: string;
  readonly imports: readonly ImportCommand[];
  /** Whether the nodes' inventory was there to fill in the VMIDs. */
  readonly withNodes: boolean;
}

export function importGuideMarkdown(g: ImportGuideInput, t: Translate): string {
  const out = [
    `# ${t('Terraform state of {0}: import guide', g.env)}`,
    '',
    `> ${g.reason}`,
    '',
    t('Nothing was changed. Terraform can rebuild the state by importing every guest that already runs; nothing is created or destroyed by an import.'),
    '',
    `1. ${t('Switch backend.tf of {0} to a local backend: comment out the backend "s3" block (keep a copy of the file).', g.env)}`,
    `2. ${t('In {0}, run terraform init -reconfigure, then these imports:', g.dir)}`,
    '',
    '```sh',
    `cd ${g.dir}`,
    ...g.imports.map((i) => i.command),
    '```',
    '',
  ];
  const notes = g.imports.filter((i) => i.note || i.assumed);
  if (notes.length) {
    out.push(`## ${t('Check before running')}`, '');
    for (const i of notes) {
      if (i.note) out.push(`- \`${i.address}\`: ${i.note}`);
      if (i.assumed) out.push(`- \`${i.address}\`: ${t('address assumed: {0}', i.assumed)}`);
    }
    out.push('');
  }
  if (!g.withNodes) out.push(`> ${t('The nodes could not be read: the VMIDs are placeholders. Connect to the nodes (Refresh in the Recovery explorer) and open this guide again.')}`, '');
  out.push(`3. ${t('Run terraform plan: it must say No changes. Then, when MinIO is back, return to the S3 backend.')}`);
  return out.join('\n') + '\n';
}

export function versioningHelpMarkdown(bucket: string, endpoint: string, status: string, t: Translate): string {
  return [
    `# ${t('Versioning of {0}: {1}', bucket, status)}`,
    '',
    t('Without versioning the bucket keeps only the current state: a damaged state cannot be rolled back, and Lifeboat refuses to restore (a write would destroy the only copy).'),
    '',
    t('Enable it with the MinIO client:'),
    '',
    '```sh',
    `mc alias set lifeboat ${endpoint} <access-key> <secret-key>`,
    `mc version enable lifeboat/${bucket}`,
    `mc version info lifeboat/${bucket}`,
    '```',
    '',
    t('or with the AWS CLI:'),
    '',
    '```sh',
    `aws s3api put-bucket-versioning --bucket ${bucket} --versioning-configuration Status=Enabled --endpoint-url ${endpoint}`,
    '```',
    '',
    t('Versions written before versioning was enabled are not recovered: the history starts at the next terraform apply.'),
    '',
  ].join('\n');
}
