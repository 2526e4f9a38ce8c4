import { describe, expect, it } from 'vitest';
import { REGENERATE_INPUT_FIELDS, resolveRegenerateInput, workflowInputOf } from '../../src/contracts.js';

const now = new Date('2026-11-05T02:00:00Z');

describe('workflowInputOf: the input a door starts is the input it resolved', () => {
  it('keeps every field, batchesPerActivity among them (a field-by-field copy dropped it)', () => {
    const resolved = resolveRegenerateInput(
      { customerIds: [3, 1], from: '2026-11-01', to: '2026-11-03', sendEmail: false, dryRun: true, batchSize: 7, parallelism: 3, batchesPerRun: 9, batchesPerActivity: 1 },
      now,
    );
    const input = workflowInputOf(resolved);
    expect(input).toMatchObject({ customerIds: [1, 3], batchesPerActivity: 1, batchSize: 7, parallelism: 3, batchesPerRun: 9, dryRun: true, sendEmail: false });
    // Resolving it again (as the workflow does) gives the same run, whatever the clock says.
    expect(resolveRegenerateInput(input, new Date('2030-01-01T00:00:00Z'))).toEqual(resolved);
  });

  it('leaves out only what is unset: all active customers is said by omission', () => {
    const resolved = resolveRegenerateInput({}, now);
    const input = workflowInputOf(resolved);
    expect(input).not.toHaveProperty('customerIds');
    expect(resolveRegenerateInput(input, now)).toEqual(resolved);
  });

  it('copies only fields the workflow input schema declares (the workflow refuses unknown ones)', () => {
    const input = workflowInputOf(resolveRegenerateInput({ customerIds: [1] }, now));
    for (const field of Object.keys(input)) expect(REGENERATE_INPUT_FIELDS).toContain(field);
  });
});
