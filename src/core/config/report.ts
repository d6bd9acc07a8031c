/**
 * A plain-data view of a discovery, for `lifeboat environments --json` and for tests: secrets
 * appear only as `{ redacted: true, source }`, ranges as one-based lines.
 */
import type { BackendConfig, Discovery } from '../model/environment';
import { homelabNodes } from './discovery';
import type { Secret } from '../model/secret';

export interface EnvironmentsReport {
  readonly root: string;
  readonly nodes: ReturnType<typeof homelabNodes>;
  readonly environments: readonly Record<string, unknown>[];
  readonly problems: Discovery['problems'];
}

function secret(s: Secret | undefined) {
  return s ? s.toJSON() : undefined;
}

function backend(b: BackendConfig): Record<string, unknown> {
  if (b.type === 's3') {
    return { type: 's3', bucket: b.bucket, key: b.key, region: b.region, endpoint: b.endpoint, useLockfile: b.useLockfile, usePathStyle: b.usePathStyle };
  }
  return { type: 'local', commentedOutS3: b.commentedOut ? backend(b.commentedOut) : undefined };
}

export function environmentsReport(discovery: Discovery): EnvironmentsReport {
  return {
    root: discovery.root,
    nodes: homelabNodes(discovery.environments),
    environments: discovery.environments.map((e) => ({
      name: e.name,
      dir: e.dir,
      tfvars: e.tfvarsPath,
      endpoint: e.endpoint,
      defaultNode: e.defaultNode,
      apiToken: secret(e.apiToken),
      nodes: e.nodes,
      guests: e.guests.map((g) => ({ name: g.name, kind: g.kind, node: g.node, ip: g.ip, cores: g.cores, memoryMiB: g.memoryMiB, diskGiB: g.diskGiB, tags: g.tags, vmid: g.vmid, line: g.range.start.line + 1 })),
      backup: e.backup ? { ...e.backup, range: undefined, line: e.backup.range.start.line + 1 } : undefined,
      minio: e.minio
        ? { ip: e.minio.ip, port: e.minio.port, consolePort: e.minio.consolePort, endpoint: e.minio.ip ? `http://${e.minio.ip}:${e.minio.port}` : undefined, rootUser: e.minio.rootUser, rootPassword: secret(e.minio.rootPassword), buckets: e.minio.buckets, line: e.minio.range.start.line + 1 }
        : undefined,
      monitoring: e.monitoring
        ? { vmIp: e.monitoring.vmIp, nodes: e.monitoring.nodes.map((n) => ({ name: n.name, ip: n.ip, tokenValue: secret(n.tokenValue) })), retentionDays: e.monitoring.retentionDays, grafanaAdminPassword: secret(e.monitoring.grafanaAdminPassword), line: e.monitoring.range.start.line + 1 }
        : undefined,
      backend: backend(e.backend),
      modules: e.modules,
    })),
    problems: discovery.problems,
  };
}
