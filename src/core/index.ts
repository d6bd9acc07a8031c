/**
 * The core's public surface: the CLI and the extension import from here only.
 * Nothing under src/core imports vscode, ssh2, minio or execa (enforced by tsconfig.core.json and eslint).
 */
export * from './model/environment';
export * from './model/secret';
export * from './ports';
export { parseHcl, type HclDocument, type HclValue, type HclEntry, type Range, type Position } from './config/hcl';
export { readBackend, hostOf } from './config/tfvars';
export { discoverEnvironments, findRepositoryRoot, homelabNodes, DEFAULT_ENVIRONMENTS_GLOB, type DiscoveryOptions } from './config/discovery';
export { environmentsReport, type EnvironmentsReport } from './config/report';
export * from './errors';
