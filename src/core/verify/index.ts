/** Backup verification: archives, checksums, coverage, state versions. */
export * from './model';
export * from './manifest';
export * from './commands';
export * from './verify';
export * from './report';
