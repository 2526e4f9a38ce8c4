/**
 * Validation problems as data: each names the input field it is about (for placing it next to
 * that field in a form) and says, in a whole sentence that starts with the field's name, what
 * the rule is. Doors print or place them; none parses a message. Sandbox-safe.
 */
import type { z } from 'zod';

export interface FieldProblem {
  /** The top-level input field (`customerIds`, `from`…), or `input` for the input as a whole. */
  field: string;
  /** What is wrong and the rule, naming the field: "from is not a calendar date". */
  message: string;
}

export class InvalidInputError extends Error {
  override name = 'InvalidInputError';
  constructor(readonly problems: FieldProblem[]) {
    super(`invalid input: ${problems.map((problem) => problem.message).join('; ')}`);
  }
}

/** The schema's reading of `raw` (absent: undefined), or an InvalidInputError listing every problem. */
export function parseInput<T>(schema: z.ZodType<T>, raw: unknown): T {
  const parsed = schema.safeParse(raw ?? undefined);
  if (!parsed.success) throw new InvalidInputError(problemsFromZod(parsed.error.issues));
  return parsed.data;
}

/** Zod's issues as problems: the field is the path's first key, the message names the whole path. */
export function problemsFromZod(issues: z.core.$ZodIssue[]): FieldProblem[] {
  return issues.map((issue) => {
    const path = issue.path.map(String);
    return { field: path[0] ?? 'input', message: `${path.length > 0 ? path.join('.') : 'input'} ${issue.message.replace(/^Invalid input: /, '')}` };
  });
}

/** The same problems, one level down: `reportOptions.batchSize must…` about the field `reportOptions`. */
export function nestedProblems(field: string, problems: FieldProblem[]): FieldProblem[] {
  // A problem with the nested object as a whole ("input unknown field(s): x") is about `field` itself.
  return problems.map((problem) => ({ field, message: problem.field === 'input' ? `${field}${problem.message.slice('input'.length)}` : `${field}.${problem.message}` }));
}
