/**
 * Every `viewItem` used in package.json `when` clauses, in one place (GitLens' ContextValues).
 * Guests and backups append their flags: `lifeboat.guest.exists.running`, `lifeboat.backup.protected`.
 */
export const ContextValues = {
  environment: 'lifeboat.environment',
  node: 'lifeboat.node',
  guest: 'lifeboat.guest',
  backup: 'lifeboat.backup',
  state: 'lifeboat.state',
  stateVersion: 'lifeboat.stateVersion',
  problem: 'lifeboat.problem',
} as const;
