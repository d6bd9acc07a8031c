/** Task bodies by job kind, run by the detached worker (worker.ts). */
import type { TaskContext } from '../tasks';
import { destroyWorker, powerWorker } from './guestcmd';
import { restoreWorker } from './restore';
import { vzdumpWorker } from './vzdump';

export const WORKERS: Record<string, (t: TaskContext) => Promise<void>> = {
  power: powerWorker,
  destroy: destroyWorker,
  restore: restoreWorker,
  vzdump: vzdumpWorker,
};
