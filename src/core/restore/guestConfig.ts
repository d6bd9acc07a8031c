/**
 * Reading a guest configuration (`key: value` lines, as `pvesm extractconfig` prints the one inside
 * an archive, or the JSON of `.../config`): disks with their storages and sizes, the first network
 * interface, and a static address.
 */

export interface GuestDisk {
  readonly key: string;
  readonly storage: string;
  readonly sizeBytes: number;
}

const DISK_KEY = /^(scsi|virtio|sata|ide|efidisk|tpmstate|rootfs|mp)\d*$/;

/** `key: value` text → entries; stops at the first snapshot section (`[snap]`). */
export function parseConfigText(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (/^\[.*\]\s*$/.test(line)) break;
    const m = /^([a-z][a-z0-9_-]*):\s*(.*)$/i.exec(line);
    if (m?.[1]) out[m[1]] = m[2] ?? '';
  }
  return out;
}

/** `32G`, `512M`, `4T` (Proxmox sizes are binary). */
export function sizeToBytes(size: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)$/i.exec(size.trim());
  if (!m) return 0;
  const unit = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[(m[2] ?? '').toUpperCase() as '' | 'K' | 'M' | 'G' | 'T'];
  return Math.round(Number(m[1]) * unit);
}

/** Disks (not CD-ROMs) with their storage and size; `#qmdump#map` lines say where VMA disks go back. */
export function disksOf(config: Record<string, string>, rawText = ''): GuestDisk[] {
  const disks: GuestDisk[] = [];
  for (const [key, value] of Object.entries(config)) {
    if (!DISK_KEY.test(key) || /media=cdrom/.test(value) || value.startsWith('none')) continue;
    const [volume, ...opts] = value.split(',');
    const storage = volume?.includes(':') ? volume.split(':')[0]! : '';
    const size = opts.find((o) => o.startsWith('size='))?.slice(5) ?? '';
    disks.push({ key, storage, sizeBytes: sizeToBytes(size) });
  }
  for (const m of rawText.matchAll(/^#qmdump#map:([a-z0-9]+):[^:]*:([^:]*):[^:]*:/gim)) {
    const disk = disks.find((d) => d.key === m[1]);
    if (disk && !disk.storage && m[2]) disks[disks.indexOf(disk)] = { ...disk, storage: m[2] };
  }
  return disks;
}

/** The static IPv4 address a config gives the guest (cloud-init `ipconfig0` or a CT's `net0 ip=`). */
export function staticAddress(config: Record<string, string>): string | undefined {
  for (const key of ['ipconfig0', 'net0']) {
    const m = /(?:^|,)ip=(\d{1,3}(?:\.\d{1,3}){3})(?:\/\d+)?(?:,|$)/.exec(config[key] ?? '');
    if (m?.[1]) return m[1];
  }
  return undefined;
}
