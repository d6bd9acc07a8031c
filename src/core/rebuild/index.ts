/** Rebuilds: MinIO and the monitoring stack. */
export * from './ports';
export * from './minio';
export * from './monitoring';
