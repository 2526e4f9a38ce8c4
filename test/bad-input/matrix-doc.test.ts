import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { adminCases, cliCases, temporalCases } from './cases.js';
import { renderBadInputMatrix } from './render-matrix.js';
import { REPO_ROOT } from './support.js';

describe('docs/bad-input-matrix.md', () => {
  it('is the rendering of the case tables the tests run (regenerate it: npx tsx test/bad-input/render-matrix.ts > docs/bad-input-matrix.md)', () => {
    const onDisk = fs.readFileSync(path.join(REPO_ROOT, 'docs/bad-input-matrix.md'), 'utf8');
    expect(onDisk).toBe(renderBadInputMatrix());
  });

  it('covers at least 30 cases, and every case names what the user gets back', () => {
    expect(cliCases.length + temporalCases.length + adminCases.length).toBeGreaterThanOrEqual(30);
    for (const c of [...cliCases, ...temporalCases.filter((t) => !t.cliRefuses), ...adminCases.filter((a) => a.status !== 303)]) {
      expect(c.messages.length, c.label).toBeGreaterThan(0);
    }
    const labels = (list: Array<{ label: string }>) => list.map((c) => c.label);
    for (const list of [cliCases.map((c) => ({ label: `${c.script} ${c.label}` })), temporalCases.map((c) => ({ label: `${c.job}: ${c.label}` })), adminCases.map((c) => ({ label: `${c.url} ${c.label}` }))]) {
      expect(new Set(labels(list)).size, 'case labels are test names: unique per door (and job)').toBe(list.length);
    }
  });
});
