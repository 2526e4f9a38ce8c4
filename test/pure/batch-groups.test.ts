import { describe, expect, it } from 'vitest';
import { groupBatches } from '../../src/workflows/batch-groups.js';

const batches = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
const sizes = (n: number, lanes: number, max: number) => groupBatches(batches(n), lanes, max).map((g) => g.batches.length);

describe('groupBatches', () => {
  it('gives each group 1/lanes of what is left, so the last groups are single batches', () => {
    expect(sizes(20, 2, 10)).toEqual([10, 5, 3, 1, 1]);
    expect(sizes(20, 4, 10)).toEqual([5, 4, 3, 2, 2, 1, 1, 1, 1]);
  });

  it('never puts more than max batches into one group', () => {
    expect(sizes(100, 2, 10)).toEqual([10, 10, 10, 10, 10, 10, 10, 10, 10, 5, 3, 1, 1]);
    expect(sizes(5, 1, 1)).toEqual([1, 1, 1, 1, 1]);
  });

  it('keeps every batch exactly once, in order, and says where each group starts', () => {
    const groups = groupBatches(batches(37), 3, 8);
    expect(groups.flatMap((g) => g.batches)).toEqual(batches(37));
    for (const group of groups) expect(group.batches[0]).toBe(group.first + 1);
    expect(groupBatches([], 2, 10)).toEqual([]);
  });
});
