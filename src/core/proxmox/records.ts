/**
 * zod schemas for what Proxmox prints (reference/proxmox.md). Parsed leniently where Proxmox is
 * lenient (0/1 flags, numbers as strings) and strictly where a wrong value would mislead the operator.
 */
import { z } from 'zod';

const flag = z.union([z.number(), z.string(), z.boolean()]).transform((v) => v === 1 || v === '1' || v === true);
const int = z.union([z.number(), z.string()]).transform((v) => Number(v)).pipe(z.number().finite());

export const ClusterResourceSchema = z.object({
  id: z.string(),
  type: z.string(),
  node: z.string().optional(),
  vmid: int.optional(),
  name: z.string().optional(),
  status: z.string().optional(),
  template: flag.optional(),
  lock: z.string().optional(),
  tags: z.string().optional(),
  maxdisk: int.optional(),
  maxmem: int.optional(),
  maxcpu: int.optional(),
  uptime: int.optional(),
}).passthrough();
export type ClusterResourceRecord = z.infer<typeof ClusterResourceSchema>;

export const StorageStatusSchema = z.object({
  storage: z.string().optional(),
  type: z.string(),
  content: z.string().default(''),
  enabled: flag.optional(),
  active: flag.optional(),
  shared: flag.optional(),
  total: int.optional(),
  used: int.optional(),
  avail: int.optional(),
}).passthrough();
export type StorageStatusRecord = z.infer<typeof StorageStatusSchema>;

export const BackupContentSchema = z.object({
  volid: z.string(),
  format: z.string().default(''),
  subtype: z.string().optional(),
  vmid: int.optional(),
  ctime: int,
  size: int.optional(),
  'approximate-size': int.optional(),
  notes: z.string().optional(),
  protected: flag.optional(),
  verification: z.object({ state: z.string(), upid: z.string().optional() }).optional(),
  encrypted: z.union([z.string(), z.number()]).optional(),
}).passthrough();
export type BackupContentRecord = z.infer<typeof BackupContentSchema>;

export const BackupJobSchema = z.object({
  id: z.string(),
  type: z.string().optional(),
  schedule: z.string().optional(),
  enabled: flag.optional(),
  storage: z.string().optional(),
  vmid: z.union([z.string(), z.number()]).optional(),
  all: flag.optional(),
  exclude: z.union([z.string(), z.number()]).optional(),
  node: z.string().optional(),
  mode: z.string().optional(),
  compress: z.union([z.string(), z.number()]).optional(),
  'next-run': int.optional(),
  comment: z.string().optional(),
}).passthrough();
export type BackupJobRecord = z.infer<typeof BackupJobSchema>;

export const TaskStatusSchema = z.object({
  upid: z.string(),
  status: z.enum(['running', 'stopped']),
  exitstatus: z.string().optional(),
  type: z.string().optional(),
  id: z.string().optional(),
  starttime: int.optional(),
  node: z.string().optional(),
}).passthrough();
export type TaskStatusRecord = z.infer<typeof TaskStatusSchema>;

export const TaskLogSchema = z.array(z.object({ n: int, t: z.string() }));

export const TaskListSchema = z.array(z.object({
  upid: z.string(),
  type: z.string(),
  id: z.string().optional(),
  starttime: int,
  status: z.string().optional(),
  endtime: int.optional(),
}).passthrough());

const ipAddress = z.object({ 'ip-address': z.string(), 'ip-address-type': z.string(), prefix: int.optional() });
export const AgentInterfacesSchema = z.object({
  result: z.array(z.object({ name: z.string(), 'hardware-address': z.string().optional(), 'ip-addresses': z.array(ipAddress).optional() }).passthrough()),
});
export const LxcInterfacesSchema = z.array(z.object({ name: z.string(), 'hardware-address': z.string().optional(), 'ip-addresses': z.array(ipAddress).optional() }).passthrough()).nullable();

export const GuestConfigSchema = z.record(z.union([z.string(), z.number()]).transform(String));

/** Parses a pvesh JSON answer; throws a plain Error with what was wrong (the caller adds context). */
export function parseJson<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, stdout: string): T {
  const text = stdout.trim();
  const data: unknown = text === '' ? null : JSON.parse(text);
  return schema.parse(data);
}
