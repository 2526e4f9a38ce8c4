import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { loadClusterSettings, portLayout, TEMPORAL_SERVICES } from '../../src/cluster/cluster-settings.js';
import { checkGo, GO_TOOLCHAIN, GoMissingError, UI_SERVER_VERSION } from '../../src/cluster/go-binaries.js';
import { datastoreEnv, temporalPostgresFromUrl } from '../../src/cluster/temporal-databases.js';
import { SERVER_CONFIG_FILE, serviceEnv } from '../../src/cluster/temporal-services.js';

/** The message loadClusterSettings fails with, or a failure if it does not. */
function refusal(env: Record<string, string>): string {
  try {
    loadClusterSettings(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

const pg = temporalPostgresFromUrl('postgres://temporal:p%40ss@db.example:6432/?sslmode=verify-full&sslrootcert=/etc/ca.pem', 'temporal', 'temporal_visibility');

describe('npm run cluster settings', () => {
  it('defaults stay clear of npm start (PostgreSQL 54329, Temporal 7233/8233, admin 3000, SMTP 2525, shop 4010)', () => {
    const settings = loadClusterSettings({});
    const layout = portLayout(settings.CLUSTER_BASE_PORT);
    const used = [
      ...Object.values(layout.grpc), ...Object.values(layout.membership), layout.frontendHttp, ...Object.values(layout.metrics),
      settings.CLUSTER_UI_PORT, settings.CLUSTER_ADMIN_PORT, settings.CLUSTER_SMTP_PORT, settings.CLUSTER_SHOP_PORT, settings.CLUSTER_POSTGRES_PORT,
    ];
    expect(new Set(used).size).toBe(used.length);
    for (const taken of [54329, 7233, 8233, 3000, 2525, 4010]) expect(used).not.toContain(taken);
    expect(Math.min(...used.slice(0, 13))).toBe(settings.CLUSTER_BASE_PORT);
    expect(Math.max(...used.slice(0, 13))).toBe(settings.CLUSTER_BASE_PORT + 12);
  });

  it.each([
    [{ CLUSTER_WORKERS: '17' }, 'CLUSTER_WORKERS: must be a whole number from 0 to 16'],
    [{ CLUSTER_WORKERS: 'two' }, 'CLUSTER_WORKERS: must be a whole number from 0 to 16'],
    [{ CLUSTER_BASE_PORT: '65530' }, 'CLUSTER_BASE_PORT: leaves no room for the ports the cluster uses'],
    [{ CLUSTER_UI_PORT: '0' }, 'CLUSTER_UI_PORT: must be a port number'],
    [{ CLUSTER_TEMPORAL_DB: 'Temporal;drop' }, 'CLUSTER_TEMPORAL_DB: must be a plain lower-case database name'],
    [{ CLUSTER_TEMPORAL_POSTGRES_URL: 'db.example:5432' }, 'CLUSTER_TEMPORAL_POSTGRES_URL: must be a URL like postgres://user:password@host:5432/'],
  ])('refuses %j, naming the variable and the rule', (env, message) => {
    expect(refusal(env)).toContain(message);
  });
});

describe('the server config (cluster/temporal/config.yaml) gets every variable it requires', () => {
  const template = fs.readFileSync(SERVER_CONFIG_FILE, 'utf8');
  // Optional: the TLS files and host name of a managed PostgreSQL, and settings with a default in the template.
  const optional = new Set(['SQL_CA', 'SQL_CERT', 'SQL_CERT_KEY', 'SQL_HOST_NAME']);
  const withDefault = new Set([...template.matchAll(/default "[^"]*" \(env "(\w+)"\)/g)].map((match) => match[1]!));
  const required = [...new Set([...template.matchAll(/env "(\w+)"/g)].map((match) => match[1]!))].filter((name) => !optional.has(name) && !withDefault.has(name));

  it('is a template the server renders (the marker sits in its first 1 KB)', () => {
    expect(template.slice(0, 1024)).toContain('# enable-template');
    expect(required.length).toBeGreaterThan(10);
  });

  it.each(TEMPORAL_SERVICES)('%s: its own metrics address, the shared ports and the datastore', (service) => {
    const env = serviceEnv(service, { ports: portLayout(7333), historyShards: 4, datastore: datastoreEnv(pg) });
    for (const name of required) expect(env, name).toHaveProperty(name);
    expect(env.TEMPORAL_METRICS_ADDRESS).toBe(`127.0.0.1:${portLayout(7333).metrics[service]}`);
  });

  it('a managed PostgreSQL URL becomes the server image variables: TLS from sslmode, the password decoded', () => {
    expect(datastoreEnv(pg)).toMatchObject({
      POSTGRES_SEEDS: 'db.example', DB_PORT: '6432', POSTGRES_USER: 'temporal', POSTGRES_PWD: 'p@ss',
      SQL_TLS_ENABLED: 'true', SQL_HOST_VERIFICATION: 'true', SQL_CA: '/etc/ca.pem',
    });
    expect(datastoreEnv(temporalPostgresFromUrl('postgres://u:p@127.0.0.1:54350/', 'a', 'b')).SQL_TLS_ENABLED).toBe('false');
  });
});

describe('building the binaries', () => {
  it('without go, says what to install and the alternatives', () => {
    expect(() => checkGo('/nonexistent/go')).toThrow(GoMissingError);
    expect(() => checkGo('/nonexistent/go')).toThrow(/the go command '\/nonexistent\/go' was not found[\s\S]*install Go 1\.21 or newer[\s\S]*CLUSTER_GO=[\s\S]*TEMPORAL_ADDRESS=/);
  });

  it('a go too old to fetch the pinned toolchain is named as such', () => {
    const fake = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dj-go-')), 'go');
    fs.writeFileSync(fake, '#!/bin/sh\necho go1.19.13\n', { mode: 0o755 });
    expect(() => checkGo(fake)).toThrow(new RegExp(`found go1\\.19\\.13, which cannot fetch the pinned toolchain[\\s\\S]*${GO_TOOLCHAIN}`));
  });

  it("the UI server's build module pins the served replacements of the two versions the proxy refuses", () => {
    const goMod = fs.readFileSync('cluster/ui-server/go.mod', 'utf8');
    const goSum = fs.readFileSync('cluster/ui-server/go.sum', 'utf8');
    expect(goMod).toContain(`github.com/temporalio/ui-server/v2 ${UI_SERVER_VERSION}`);
    expect(goMod).toMatch(/go\.temporal\.io\/api v1\.64\.3/);
    expect(goMod).toMatch(/github\.com\/labstack\/echo\/v4 v4\.16\.5/);
    expect(goSum).toContain('go.temporal.io/api v1.64.3 h1:');
    expect(goSum).toContain('github.com/labstack/echo/v4 v4.16.5 h1:');
  });
});
