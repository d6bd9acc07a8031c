/** Every `viewItem` used in package.json `when` clauses, in one place (GitLens' ContextValues). */
export const ContextValues = {
  environment: 'lifeboat.environment',
  node: 'lifeboat.node',
  declaredGuest: 'lifeboat.guest.declared',
  state: 'lifeboat.state',
  problem: 'lifeboat.problem',
} as const;
