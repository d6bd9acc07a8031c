/**
 * The host's check of every message from the runbook webview: anything in a webview is less trusted,
 * so a message is acted on only when it has exactly the shape of a ToHost.
 */
import { z } from 'zod';
import type { ToHost } from '../../shared/runbookMessages';

const id = z.string().min(1).max(200);

export const toHostSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }).strict(),
  z.object({ type: z.literal('runCommand'), stepId: id, commandId: id, via: z.enum(['shell', 'lifeboat']) }).strict(),
  z.object({ type: z.literal('runStep'), stepId: id }).strict(),
  z.object({ type: z.literal('runRemaining') }).strict(),
  z.object({ type: z.literal('stop') }).strict(),
  z.object({ type: z.literal('retry'), stepId: id }).strict(),
  z.object({ type: z.literal('skip'), stepId: id, reason: z.string().max(2_000).optional() }).strict(),
  z.object({ type: z.literal('markDone'), stepId: id }).strict(),
  z.object({ type: z.literal('reopen'), stepId: id }).strict(),
  z.object({ type: z.literal('check'), itemId: id, checked: z.boolean() }).strict(),
  z.object({ type: z.literal('exportReport') }).strict(),
  z.object({ type: z.literal('newRun') }).strict(),
  z.object({ type: z.literal('reveal'), line: z.number().int().min(0).max(10_000_000) }).strict(),
]);

/** The message, or undefined when it is not a valid ToHost. */
export function parseToHost(value: unknown): ToHost | undefined {
  const r = toHostSchema.safeParse(value);
  return r.success ? (r.data as ToHost) : undefined;
}
