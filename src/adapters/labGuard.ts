/**
 * In the simulated homelab (LIFEBOAT_LAB=1) Lifeboat must only ever talk to loopback addresses:
 * a test or demo pointed at the sample repository's real-looking 10.x addresses must fail at once,
 * without sending a packet. This wraps a NodeShellPool with that rule.
 */
import { LifeboatError, msg, type NodeShellPool } from '../core';
import { loopbackOnly } from './net/probe';

export function labGuardedPool(pool: NodeShellPool, env: NodeJS.ProcessEnv): NodeShellPool {
  if (env.LIFEBOAT_LAB !== '1') return pool;
  return {
    shell(address) {
      if (!loopbackOnly(address.host)) {
        const refused = LifeboatError.saying('hostUnreachable', msg('the simulated lab only reaches loopback addresses; {0} ({1}) is not one', address.name, address.host), { node: address.name, host: address.host });
        return { node: address.name, exec: () => Promise.reject(refused) };
      }
      return pool.shell(address);
    },
    dispose: () => pool.dispose(),
  };
}
