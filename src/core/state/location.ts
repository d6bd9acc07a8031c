/**
 * Where an environment's state lives and with which credentials, from the operator's repository:
 * the environment's `backend.tf` (bucket, key, `endpoints.s3`, `use_path_style`, `use_lockfile`;
 * a commented-out block while the environment is on a local fallback), and the access key from
 * `AWS_ACCESS_KEY_ID` or the monitoring environment's `minio.root_user`, the secret from
 * `AWS_SECRET_ACCESS_KEY` or the `minio.root_password` Secret (revealed only by the adapter).
 */
import { LifeboatError } from '../errors';
import { msg } from '../procedure/message';
import type { EnvironmentConfig, S3Backend } from '../model/environment';
import { Secret } from '../model/secret';

export interface StateLocation {
  readonly environment: string;
  readonly endpoint: string;
  readonly bucket: string;
  readonly key: string;
  readonly region: string;
  readonly pathStyle: boolean;
  readonly useLockfile: boolean;
  /** The backend is commented out: the environment runs on a local backend (fallback or bootstrap). */
  readonly localNow: boolean;
}

export interface S3Credentials {
  readonly accessKey: string;
  readonly secretKey: Secret;
  /** Where they came from, for messages (never the values). */
  readonly source: string;
}

export function s3BackendOf(env: EnvironmentConfig): S3Backend | undefined {
  return env.backend.type === 's3' ? env.backend : env.backend.commentedOut;
}

export function stateLocation(env: EnvironmentConfig): StateLocation {
  const b = s3BackendOf(env);
  if (!b) {
    throw LifeboatError.saying('invalidValue', msg('environment {0} has no s3 backend in backend.tf (its state is local): there is no state history to read', env.name), { field: 'environment', value: env.name, expected: 'an environment with an s3 backend' });
  }
  if (!b.bucket) throw LifeboatError.saying('invalidValue', msg('the s3 backend of {0} has no bucket', env.name), { field: 'bucket', value: '', expected: 'bucket = "tfstate-<env>"' });
  if (!b.endpoint) throw LifeboatError.saying('invalidValue', msg('the s3 backend of {0} has no endpoints.s3 (MinIO\'s address)', env.name), { field: 'endpoints.s3', value: '', expected: 'endpoints = { s3 = "http://<minio>:9000" }' });
  return {
    environment: env.name,
    endpoint: b.endpoint,
    bucket: b.bucket,
    key: b.key,
    region: b.region ?? 'us-east-1',
    pathStyle: b.usePathStyle,
    useLockfile: b.useLockfile,
    localNow: env.backend.type === 'local',
  };
}

/** The credentials for the state store, or undefined when neither the environment nor the repository has them. */
export function s3Credentials(environments: readonly EnvironmentConfig[], processEnv: Readonly<Record<string, string | undefined>>): S3Credentials | undefined {
  const minio = environments.find((e) => e.minio)?.minio;
  const accessKey = processEnv['AWS_ACCESS_KEY_ID'] || minio?.rootUser;
  const fromEnv = processEnv['AWS_SECRET_ACCESS_KEY'] ? Secret.fromEnvironment('AWS_SECRET_ACCESS_KEY', false, processEnv) : undefined;
  const secretKey = fromEnv ?? (minio?.rootPassword?.available ? minio.rootPassword : undefined);
  if (!accessKey || !secretKey) return undefined;
  return {
    accessKey,
    secretKey,
    source: `${processEnv['AWS_ACCESS_KEY_ID'] ? 'AWS_ACCESS_KEY_ID' : 'minio.root_user'} / ${fromEnv ? 'AWS_SECRET_ACCESS_KEY' : minio?.rootPassword?.source.kind === 'environment' ? `$${minio.rootPassword.source.variable}` : 'minio.root_password'}`,
  };
}

/** The environment of a terraform process: the caller's, with the S3 credentials (revealed here, at the point of use). */
export function terraformEnvironment(base: Readonly<Record<string, string | undefined>>, credentials: S3Credentials | undefined): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...base, TF_IN_AUTOMATION: '1', TF_INPUT: '0' };
  if (credentials) {
    env['AWS_ACCESS_KEY_ID'] = credentials.accessKey;
    env['AWS_SECRET_ACCESS_KEY'] = credentials.secretKey.reveal();
  }
  return env;
}
