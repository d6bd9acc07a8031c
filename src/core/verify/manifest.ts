/**
 * The local checksum manifest, `<repo>/.lifeboat/verify-manifest.json`: what was verified, when,
 * and the archive's sha256 computed on the node. The first verified checksum is the reference: a
 * later run that finds the same name with another checksum reports the archive as changed (bit rot,
 * or overwritten) — on every run, until the operator re-verifies it on purpose (`--reread`), which
 * takes the new checksum as the reference if the archive passes. An unchanged archive that passed
 * before is not read again unless asked (`--reread`, `--full`). State versions are immutable per
 * version id, so their verdict is kept too.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';

const EntrySchema = z.object({
  volid: z.string(),
  node: z.string(),
  size: z.number(),
  mtime: z.number(),
  ctime: z.number(),
  sha256: z.string(),
  verdict: z.enum(['ok', 'corrupt']),
  /** The archive's structure was read (vma verify / tar -t), not only its compression layer. */
  full: z.boolean().default(false),
  verifiedAt: z.string(),
  /** A different checksum seen since the reference, and when first seen: reported until accepted. */
  changedSha256: z.string().optional(),
  changedSeenAt: z.string().optional(),
});

const StateEntrySchema = z.object({ valid: z.boolean(), reason: z.string().optional(), checkedAt: z.string() });

const ManifestSchema = z.object({
  version: z.literal(1),
  archives: z.record(EntrySchema).default({}),
  states: z.record(StateEntrySchema).default({}),
});

export type ManifestEntry = z.infer<typeof EntrySchema>;
export type StateManifestEntry = z.infer<typeof StateEntrySchema>;
export type VerifyManifest = z.infer<typeof ManifestSchema>;

export const MANIFEST_FILE = path.join('.lifeboat', 'verify-manifest.json');

export function emptyManifest(): VerifyManifest {
  return { version: 1, archives: {}, states: {} };
}

export function manifestPath(root: string): string {
  return path.join(root, MANIFEST_FILE);
}

/** Reads the manifest; a missing file is an empty manifest, an unreadable one is reported and replaced. */
export async function readManifest(root: string): Promise<{ manifest: VerifyManifest; problem: string | undefined }> {
  let text: string;
  try {
    text = await fs.readFile(manifestPath(root), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { manifest: emptyManifest(), problem: undefined };
    return { manifest: emptyManifest(), problem: err instanceof Error ? err.message : String(err) };
  }
  try {
    return { manifest: ManifestSchema.parse(JSON.parse(text)), problem: undefined };
  } catch (err) {
    return { manifest: emptyManifest(), problem: `${manifestPath(root)} is not a manifest Lifeboat can read (${err instanceof Error ? err.message.slice(0, 200) : String(err)}); starting a new one` };
  }
}

/** Writes atomically (temporary file + rename), so an interrupted run never leaves half a manifest. */
export async function writeManifest(root: string, manifest: VerifyManifest): Promise<string> {
  const file = manifestPath(root);
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, JSON.stringify(manifest, null, 2) + '\n');
  await fs.rename(tmp, file);
  return file;
}

/** The manifest key of an archive: a shared storage holds one file for every node. */
export function archiveKey(volid: string, node: string, shared: boolean): string {
  return shared ? volid : `${node}/${volid}`;
}

export function stateKey(bucket: string, key: string, versionId: string): string {
  return `${bucket}/${key}@${versionId}`;
}
