import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../config.js';

/**
 * Settings of `npm run cluster` and `npm run test:cluster` only (the app's own settings stay in
 * src/config.ts; the cluster hands them to its children). Defaults never collide with
 * `npm start` (PostgreSQL 54329, Temporal 7233/8233, admin 3000, SMTP 2525, shop 4010).
 */
const port = (fallback: number) => z.coerce.number({ error: 'must be a port number' }).int('must be a port number').min(1, 'must be a port number').max(65535, 'must be a port number').default(fallback);

const clusterSchema = z.object({
  CLUSTER_DATA_DIR: z.string().min(1).default('.data-cluster'),
  /** The embedded PostgreSQL (when CLUSTER_TEMPORAL_POSTGRES_URL or DATABASE_URL leave it something to hold). */
  CLUSTER_POSTGRES_PORT: port(54350),
  /**
   * A PostgreSQL server for Temporal's two databases (persistence and visibility), e.g. a
   * managed one: postgres://user:password@host:5432/?sslmode=verify-full&sslrootcert=/path/ca.pem.
   * Unset: the embedded PostgreSQL, on databases of their own.
   */
  CLUSTER_TEMPORAL_POSTGRES_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/[^/]+/, 'must be a URL like postgres://user:password@host:5432/ (databases are CLUSTER_TEMPORAL_DB and CLUSTER_TEMPORAL_VISIBILITY_DB)')
    .optional(),
  CLUSTER_TEMPORAL_DB: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'must be a plain lower-case database name').default('temporal'),
  CLUSTER_TEMPORAL_VISIBILITY_DB: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'must be a plain lower-case database name').default('temporal_visibility'),
  /** Fixed when the persistence database is first set up; changing it later is refused by the server. */
  CLUSTER_HISTORY_SHARDS: z.coerce.number().int().min(1).max(16384).default(4),
  /**
   * The first of 13 consecutive ports: frontend gRPC, history, matching, worker, their
   * membership ports, frontend HTTP, the services' metrics; our workers' metrics follow (one each).
   */
  CLUSTER_BASE_PORT: port(7333).refine((p) => p + 12 + 16 <= 65535, 'leaves no room for the ports the cluster uses (13, and one per worker)'),
  CLUSTER_UI_PORT: port(8333),
  CLUSTER_ADMIN_PORT: port(3333),
  CLUSTER_SMTP_PORT: port(2533),
  CLUSTER_SHOP_PORT: port(4033),
  CLUSTER_WORKERS: z.coerce.number({ error: 'must be a whole number from 0 to 16' }).int('must be a whole number from 0 to 16').min(0, 'must be a whole number from 0 to 16').max(16, 'must be a whole number from 0 to 16').default(2),
  /** The go command that builds the binaries (once; they are cached under CLUSTER_DATA_DIR/../.cluster). */
  CLUSTER_GO: z.string().min(1).default('go'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
});

export type ClusterSettings = z.infer<typeof clusterSchema>;

export function loadClusterSettings(env: NodeJS.ProcessEnv = process.env): ClusterSettings {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = clusterSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid cluster settings (see README, Production):\n${lines.join('\n')}`);
  }
  return parsed.data;
}

export const TEMPORAL_SERVICES = ['history', 'matching', 'frontend', 'worker'] as const;
export type TemporalService = (typeof TEMPORAL_SERVICES)[number];

/** Each service's gRPC, membership and metrics port, laid out from CLUSTER_BASE_PORT. */
export interface PortLayout {
  grpc: Record<TemporalService, number>;
  membership: Record<TemporalService, number>;
  frontendHttp: number;
  metrics: Record<TemporalService, number>;
  /** Our worker number `index` (from 1): its METRICS_PORT. */
  workerMetrics(index: number): number;
}

export function portLayout(base: number): PortLayout {
  const order: TemporalService[] = ['frontend', 'history', 'matching', 'worker'];
  const at = (offset: number) => Object.fromEntries(order.map((service, i) => [service, base + offset + i])) as Record<TemporalService, number>;
  return { grpc: at(0), membership: at(4), frontendHttp: base + 8, metrics: at(9), workerMetrics: (index) => base + 12 + index };
}

/** Where the cluster keeps its binaries (shared by every data dir of this checkout; git-ignored). */
export const CLUSTER_CACHE_DIR = path.resolve('.cluster');
