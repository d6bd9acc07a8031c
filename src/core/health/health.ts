/**
 * Health of the services the recovery depends on: MinIO (`/minio/health/live`) and the monitoring
 * stack (Prometheus `/-/ready` and its targets, Grafana `/api/health`, Alertmanager `/-/healthy`).
 * Plain HTTP GETs through the NetworkProbe port; each result says what was asked and what came back.
 */
import type { EnvironmentConfig } from '../model/environment';
import type { NetworkProbe, Sleep } from '../ports';
import { msg, type Message } from '../procedure/message';

export interface HealthResult {
  readonly service: 'minio' | 'prometheus' | 'prometheus-targets' | 'grafana' | 'alertmanager';
  readonly url: string;
  readonly healthy: boolean;
  /** HTTP status, or the network error code. */
  readonly observed: string;
  /** For Prometheus targets: how many are up out of how many. */
  readonly detail?: Message;
  /**
   * For MinIO: not MinIO's health answer, but an S3 server's XML error (another S3 server, such as
   * radosgw, answers MinIO's path with `NoSuchBucket`): S3 is up. Any other answer is not S3.
   */
  readonly s3?: boolean;
}

/** An S3 error document: `<Error><Code>NoSuchBucket</Code>…</Error>`, what every S3 server answers a bad request with. */
export function isS3ErrorBody(body: string): boolean {
  return /<Error>\s*<Code>[A-Za-z]+<\/Code>/.test(body);
}

export function minioEndpoint(envs: readonly EnvironmentConfig[]): { url: string; env: string } | undefined {
  const withMinio = envs.find((e) => e.minio?.ip);
  if (withMinio?.minio?.ip) return { url: `http://${withMinio.minio.ip}:${withMinio.minio.port}`, env: withMinio.name };
  const s3 = envs.map((e) => (e.backend.type === 's3' ? e.backend.endpoint : undefined)).find(Boolean);
  return s3 ? { url: s3.replace(/\/$/, ''), env: '' } : undefined;
}

export async function checkMinio(probe: NetworkProbe, baseUrl: string, timeoutMs = 3000, signal?: AbortSignal): Promise<HealthResult> {
  const url = `${baseUrl.replace(/\/$/, '')}/minio/health/live`;
  const r = await probe.http(url, timeoutMs, signal);
  if (!('status' in r)) return { service: 'minio', url, healthy: false, observed: r.error };
  // MinIO's liveness answer is an empty 200; a web page with status 200 is some other server.
  const healthy = r.status === 200 && !/<html/i.test(r.body);
  return { service: 'minio', url, healthy, observed: `HTTP ${r.status}`, s3: !healthy && isS3ErrorBody(r.body) };
}

/** Waits for MinIO with retries and exponential backoff (a container needs a few seconds to start). */
export async function waitForMinio(probe: NetworkProbe, baseUrl: string, opts: { attempts: number; firstDelayMs: number; sleep: Sleep; signal?: AbortSignal }): Promise<HealthResult> {
  let delay = opts.firstDelayMs;
  let last = await checkMinio(probe, baseUrl, 3000, opts.signal);
  for (let i = 1; i < opts.attempts && !last.healthy; i++) {
    await opts.sleep(delay, opts.signal);
    delay = Math.min(delay * 2, 15_000);
    last = await checkMinio(probe, baseUrl, 3000, opts.signal);
  }
  return last;
}

export async function checkMonitoring(probe: NetworkProbe, vmIp: string, timeoutMs = 3000, signal?: AbortSignal): Promise<HealthResult[]> {
  const get = async (service: HealthResult['service'], url: string, healthy: (status: number, body: string) => boolean): Promise<HealthResult> => {
    const r = await probe.http(url, timeoutMs, signal);
    return 'status' in r ? { service, url, healthy: healthy(r.status, r.body), observed: `HTTP ${r.status}` } : { service, url, healthy: false, observed: r.error };
  };
  const base = `http://${vmIp}`;
  const [prometheus, grafana, alertmanager] = await Promise.all([
    get('prometheus', `${base}:9090/-/ready`, (s) => s === 200),
    get('grafana', `${base}:3000/api/health`, (s, body) => s === 200 && /"database"\s*:\s*"ok"/.test(body)),
    get('alertmanager', `${base}:9093/-/healthy`, (s) => s === 200),
  ]);
  const targetsUrl = `${base}:9090/api/v1/targets`;
  const t = await probe.http(targetsUrl, timeoutMs, signal);
  let targets: HealthResult;
  if ('status' in t && t.status === 200) {
    try {
      const active = (JSON.parse(t.body) as { data?: { activeTargets?: { health?: string }[] } }).data?.activeTargets ?? [];
      const up = active.filter((x) => x.health === 'up').length;
      targets = { service: 'prometheus-targets', url: targetsUrl, healthy: active.length > 0 && up === active.length, observed: 'HTTP 200', detail: msg('{0}/{1} up', up, active.length) };
    } catch {
      targets = { service: 'prometheus-targets', url: targetsUrl, healthy: false, observed: 'HTTP 200', detail: msg('unreadable JSON') };
    }
  } else {
    targets = { service: 'prometheus-targets', url: targetsUrl, healthy: false, observed: 'status' in t ? `HTTP ${t.status}` : t.error };
  }
  return [prometheus, targets, grafana, alertmanager];
}
