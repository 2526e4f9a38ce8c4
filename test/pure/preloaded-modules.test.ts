// The modules the workflow bundle preloads (src/workflow-bundle.ts, PRELOADED_MODULES) are
// shared by every run of a worker thread and deep-frozen by the SDK first. A zod schema does
// not survive that (it finishes building itself on its first parse: "Cannot assign to read
// only property 'parse'", seen when they were first preloaded), so none may be reachable from
// what these modules export; and frozen as the sandbox freezes them, they still validate.
import { describe, expect, it } from 'vitest';
import { PRELOADED_MODULES } from '../../src/workflow-bundle.js';

/** The SDK's freeze (@temporalio/worker, reusable-vm.ts): objects' own properties, recursively; functions frozen, not walked. */
function freezeAsTheSandboxDoes(value: unknown, seen = new WeakSet<object>()): void {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function') || seen.has(value)) return;
  seen.add(value);
  if (typeof value === 'object') {
    for (const key of Reflect.ownKeys(value)) {
      try {
        freezeAsTheSandboxDoes((value as Record<string | symbol, unknown>)[key], seen);
      } catch {
        // as the SDK: some objects cannot be frozen
      }
    }
  }
  Object.freeze(value);
}

/** Paths to every zod schema reachable through own properties of objects (what that freeze walks). */
function schemasReachable(value: unknown, path: string, seen = new WeakSet<object>()): string[] {
  if (value === null || typeof value !== 'object' || seen.has(value)) return [];
  seen.add(value);
  if ('_zod' in value) return [path];
  return Reflect.ownKeys(value).flatMap((key) => schemasReachable((value as Record<string | symbol, unknown>)[key], `${path}.${String(key)}`, seen));
}

describe('the preloaded modules', () => {
  it('are the four job contracts, and export no zod schema, however deep', async () => {
    expect(PRELOADED_MODULES.map((file) => file.replace(/^.*\/src\//, ''))).toEqual([
      'contracts.ts', 'daily-reports-contract.ts', 'import-orders-contract.ts', 'purge-old-reports-contract.ts',
    ]);
    for (const file of PRELOADED_MODULES) {
      const exported = await import(file);
      expect(schemasReachable({ ...exported }, file.replace(/^.*\/src\//, ''))).toEqual([]);
    }
  });

  it('still validate, good input and bad, once frozen as the sandbox freezes them', async () => {
    const modules = await Promise.all(PRELOADED_MODULES.map((file) => import(file)));
    // zod's own modules are evaluated while the contracts preload, so the sandbox freezes them too.
    for (const exported of [...modules, await import('zod'), await import('zod/v4/core')]) freezeAsTheSandboxDoes({ ...exported });
    const [reports, daily, imports, purge] = modules;
    const now = new Date('2026-03-10T12:00:00Z');
    expect(reports.resolveRegenerateInput({ customerIds: [1, 2], from: '2026-03-01', to: '2026-03-02' }, now)).toMatchObject({ customerIds: [1, 2], from: '2026-03-01', to: '2026-03-02' });
    expect(() => reports.resolveRegenerateInput({ customerIds: ['1'], form: 'x' }, now)).toThrow(/customerIds|form/);
    expect(daily.resolveDailyReportsInput({ at: '03:00' }, now)).toMatchObject({ at: '03:00' });
    expect(() => daily.resolveDailyReportsInput({ at: '25:00' }, now)).toThrow(/at must be a time of day/);
    expect(imports.resolveImportInput({ dryRun: true }, now)).toMatchObject({ dryRun: true });
    expect(() => imports.resolveImportInput({ pageSize: 0 }, now)).toThrow(/pageSize must be a whole number/);
    expect(purge.resolvePurgeInput({ retentionDays: 400 }, now)).toMatchObject({ retentionDays: 400 });
    expect(() => purge.resolvePurgeInput({ retentionDays: 400, asOf: '2026-02-30' }, now)).toThrow(/asOf is not a calendar date/);
    // The job registry's schemas are the same objects, used outside the sandbox as before.
    expect(reports.regenerateReportsInputSchema().safeParse({ dryRun: 'yes' }).success).toBe(false);
  });
});
