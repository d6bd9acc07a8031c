/**
 * The guest's view of its network: the QEMU guest agent (`network-get-interfaces`) and the LXC
 * `interfaces` endpoint (reference §9). Addresses come from the guest's config (the operator's
 * address, not the loopback twin), MACs from `net0` in lower case as guests report them.
 */
import { type Ctx, ToolError, out, parseArgs, timeScale, vmidArg } from '../cli';
import { type GuestState, configAddress, readState } from '../model';
import { localGuest } from '../guests';
import { prettyJson } from '../format';

/** The guest agent answers this long after the VM started (normal for 10–60 s after boot). */
export const AGENT_BOOT_MS = 12000;

function macOf(g: GuestState): string {
  const net0 = g.config.net0 ?? '';
  const m = /(?:virtio|e1000|vmxnet3|rtl8139|hwaddr)=([0-9A-Fa-f:]{17})/.exec(net0);
  return (m?.[1] ?? '00:00:00:00:00:00').toLowerCase();
}

function prefixOf(g: GuestState): number {
  const m = /ip=[\d.]+\/(\d+)/.exec(g.config.ipconfig0 ?? g.config.net0 ?? '');
  return m ? Number(m[1]) : 24;
}

function ipv6LinkLocal(mac: string): string {
  // EUI-64 from the MAC, as the guest derives its fe80:: address.
  const b = mac.split(':').map((x) => parseInt(x, 16) || 0);
  const g = (hi: number, lo: number): string => ((hi << 8) | lo).toString(16);
  return `fe80::${g((b[0] ?? 0) ^ 2, b[1] ?? 0)}:${g(b[2] ?? 0, 0xff)}:${g(0xfe, b[3] ?? 0)}:${g(b[4] ?? 0, b[5] ?? 0)}`;
}

const stats = (n: number): Record<string, number> => ({ 'rx-bytes': n * 1024, 'rx-dropped': 0, 'rx-errs': 0, 'rx-packets': n * 12, 'tx-bytes': n * 800, 'tx-dropped': 0, 'tx-errs': 0, 'tx-packets': n * 10 });

/** `network-get-interfaces` result of a running VM with an agent (errors as Proxmox words them). */
export function agentInterfaces(g: GuestState): unknown[] {
  if (g.config.agent === undefined || /^(0|enabled=0)/.test(g.config.agent)) throw new ToolError('No QEMU guest agent configured');
  if (g.status !== 'running') throw new ToolError(`VM ${g.vmid} is not running`);
  if (Date.now() - (g.startedAt ?? 0) < AGENT_BOOT_MS * timeScale()) throw new ToolError('QEMU guest agent is not running');
  const mac = macOf(g);
  const ip = configAddress(g.config);
  const addrs: unknown[] = [];
  if (ip) addrs.push({ 'ip-address': ip, 'ip-address-type': 'ipv4', prefix: prefixOf(g) });
  addrs.push({ 'ip-address': ipv6LinkLocal(mac), 'ip-address-type': 'ipv6', prefix: 64 });
  return [
    { 'hardware-address': '00:00:00:00:00:00', 'ip-addresses': [{ 'ip-address': '127.0.0.1', 'ip-address-type': 'ipv4', prefix: 8 }, { 'ip-address': '::1', 'ip-address-type': 'ipv6', prefix: 128 }], name: 'lo', statistics: stats(1) },
    { 'hardware-address': mac, 'ip-addresses': addrs, name: 'ens18', statistics: stats(100) },
  ];
}

/** `/nodes/{node}/lxc/{vmid}/interfaces`: running CT only (a stopped CT gives null). */
export function lxcInterfaces(g: GuestState): unknown[] | null {
  if (g.status !== 'running') return null;
  const mac = macOf(g);
  const ip = configAddress(g.config);
  const eth0: Record<string, unknown> = { 'hardware-address': mac, hwaddr: mac, 'ip-addresses': ip ? [{ 'ip-address': ip, 'ip-address-type': 'inet', prefix: prefixOf(g) }] : [], name: 'eth0' };
  if (ip) eth0.inet = `${ip}/${prefixOf(g)}`;
  return [
    { 'hardware-address': '00:00:00:00:00:00', hwaddr: '00:00:00:00:00:00', inet: '127.0.0.1/8', inet6: '::1/128', 'ip-addresses': [{ 'ip-address': '127.0.0.1', 'ip-address-type': 'inet', prefix: 8 }, { 'ip-address': '::1', 'ip-address-type': 'inet6', prefix: 128 }], name: 'lo' },
    eth0,
  ];
}

/** `qm guest cmd <vmid> network-get-interfaces`: the inner array, pretty-printed. */
export async function qmGuestCmd(ctx: Ctx, args: string[]): Promise<number> {
  const usage = 'qm guest cmd <vmid> <command>';
  const [sub, ...rest] = args;
  if (sub !== 'cmd') throw new ToolError(`ERROR: unknown command 'qm guest ${sub ?? ''}'\n${usage}`);
  const p = parseArgs(rest, [], [], usage);
  const vmid = vmidArg(p.positional[0], usage);
  const command = p.positional[1];
  if (command !== 'network-get-interfaces' && command !== 'ping') throw new ToolError(`400 Parameter verification failed.\ncommand: value '${command ?? ''}' does not have a value in the enumeration\n${usage}`);
  const g = localGuest(readState(ctx.stateDir), ctx.node, 'qemu', vmid);
  const result = agentInterfaces(g);
  if (command === 'network-get-interfaces') out(prettyJson(result) + '\n');
  return 0;
}
