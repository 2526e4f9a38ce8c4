import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { loadConfig } from '../../src/config.js';
import { JOBS } from '../../src/jobs/index.js';
import * as workflows from '../../src/workflows/index.js';
import { cliCases, temporalCases } from '../bad-input/cases.js';

/** The input object's fields, as its schema declares them. */
function shapeOf(schema: z.ZodType): Record<string, z.ZodType & { description?: string }> {
  let inner = schema as unknown as { unwrap?: () => unknown; shape?: Record<string, z.ZodType> };
  while (!inner.shape && inner.unwrap) inner = inner.unwrap() as typeof inner;
  if (!inner.shape) throw new Error('the input schema is not an object');
  return inner.shape;
}

// Adding a job is one registry entry plus its own files (docs/adding-a-job.md); this fails when
// an entry lacks a door, so no job is reachable from some doors and not others.
describe('every registered job has every door', () => {
  it('kinds and workflow types are unique, kinds read as command names', () => {
    expect(new Set(JOBS.map((job) => job.kind)).size).toBe(JOBS.length);
    expect(new Set(JOBS.map((job) => job.workflowType)).size).toBe(JOBS.length);
    for (const job of JOBS) expect(job.kind).toMatch(/^[a-z]+(-[a-z]+)*$/);
  });

  describe.each(JOBS.map((job) => ({ kind: job.kind, job })))('$kind', ({ job }) => {
    it('its workflow is registered with the worker (src/workflows/index.ts)', () => {
      expect(typeof (workflows as Record<string, unknown>)[job.workflowType]).toBe('function');
    });

    it('every input field has help text, and every CLI flag names a field of the schema', () => {
      const shape = shapeOf(job.schema);
      for (const [field, schema] of Object.entries(shape)) expect(schema.description, `${job.kind}.${field} has no .describe()`).toBeTruthy();
      const flags = Object.keys(job.doors.cli.flags);
      expect(flags.length).toBeGreaterThan(0);
      for (const field of flags) expect(Object.keys(shape)).toContain(field);
    });

    it('its admin form, if any, names fields of the schema and at least one role', () => {
      if (!job.doors.form) return;
      for (const field of job.doors.form.fields) expect(Object.keys(shapeOf(job.schema))).toContain(field);
      expect(job.doors.form.roles.length).toBeGreaterThan(0);
    });

    it('it can be scheduled: says what a scheduled run covers, and its backfill window is a real span', () => {
      const schedule = job.doors.schedule;
      expect(schedule, `${job.kind} declares no schedule support`).toBeDefined();
      expect(schedule!.covers(new Date('2026-11-05T02:00:00Z'), {})).toMatch(/\w/);
      if (!schedule!.backfill) return;
      const window = schedule!.backfill.window('2026-11-04', '2026-11-06', {});
      expect(window.start.getTime()).toBeLessThan(window.end.getTime());
      // Day D is over somewhere at the earliest when D ends in UTC+14 (D 10:00 UTC).
      expect(window.start.getTime()).toBeGreaterThanOrEqual(Date.parse('2026-11-04T10:00:00Z'));
    });

    it('defaults alone make a valid run, with a readable id', () => {
      const input = job.resolve(job.defaultsFromConfig?.(loadConfig({})) ?? undefined, new Date('2026-11-05T03:00:00Z'));
      const id = job.workflowId(input, { taskQueue: 'reports', startedFrom: 'cli' });
      expect(id.startsWith(`${job.kind}:`)).toBe(true);
      expect(job.staticSummary(input)).toMatch(/\w/);
    });

    it('has bad-input rows for its CLI and `temporal workflow start` doors', () => {
      expect(cliCases.filter((c) => c.script === 'job' && c.args[0] === job.kind).length, `no CLI rows for ${job.kind}`).toBeGreaterThan(0);
      expect(temporalCases.filter((c) => c.job === job.kind).length, `no temporal rows for ${job.kind}`).toBeGreaterThan(0);
    });
  });
});
