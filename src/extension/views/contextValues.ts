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
  /** The Terraform state node, by where the state is: only the action that applies is offered. */
  stateS3: 'lifeboat.state.s3',
  stateFallback: 'lifeboat.state.fallback',
  stateLocal: 'lifeboat.state.local',
  /** A node's "Backups without a guest" group, and one VMID in it. */
  orphans: 'lifeboat.orphans',
  orphan: 'lifeboat.orphan',
  stateVersion: 'lifeboat.stateVersion',
  problem: 'lifeboat.problem',
} as const;
