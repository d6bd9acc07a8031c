/**
 * Every `viewItem` used in package.json `when` clauses, in one place (GitLens' ContextValues).
 * Guests and backups append their flags: `lifeboat.guest.exists.running`, `lifeboat.guest.missing.restorable`,
 * `lifeboat.backup.protected`.
 */
export const ContextValues = {
  environment: 'lifeboat.environment',
  node: 'lifeboat.node',
  guest: 'lifeboat.guest',
  backup: 'lifeboat.backup',
  /** A node's "Backups without a guest" group, and one VMID in it. */
  orphans: 'lifeboat.orphans',
  orphan: 'lifeboat.orphan',
  state: 'lifeboat.state',
  stateVersion: 'lifeboat.stateVersion',
  problem: 'lifeboat.problem',
} as const;
