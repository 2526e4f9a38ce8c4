/**
 * A job's CLI flags, generated from its registry entry: the spelling from `doors.cli.flags`,
 * the help text from the schema field's `.describe()`, the value converted by the field's
 * type. Conversion never judges a value: whatever does not convert is passed on as typed, so
 * the schema refuses it with its own rule, the same words the other doors show.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import type { z } from 'zod';
import type { AnyJob } from '../jobs/job-definition.js';
import type { FieldProblem } from '../validation.js';

type FieldKind = 'number' | 'boolean' | 'string' | 'json';

interface ZodDef {
  type: string;
  innerType?: z.ZodType;
  element?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  in?: z.ZodType;
}

const defOf = (schema: z.ZodType): ZodDef => (schema as unknown as { _zod: { def: ZodDef } })._zod.def;

/** The schema with optional, nullable and default wrappers taken off. */
function unwrapped(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (;;) {
    const def = defOf(current);
    if (def.innerType && ['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional'].includes(def.type)) current = def.innerType;
    else if (def.type === 'pipe' && def.in) current = def.in;
    else return current;
  }
}

/** The input's fields and their schemas (the registry's schemas are objects, perhaps optional). */
export function inputFields(job: AnyJob): Record<string, z.ZodType> {
  return defOf(unwrapped(job.schema)).shape ?? {};
}

function kindOf(schema: z.ZodType): { kind: FieldKind; list: boolean } {
  const base = unwrapped(schema);
  const def = defOf(base);
  if (def.type === 'array' && def.element) return { kind: kindOf(def.element).kind, list: true };
  if (def.type === 'number' || def.type === 'int' || def.type === 'bigint') return { kind: 'number', list: false };
  if (def.type === 'boolean') return { kind: 'boolean', list: false };
  if (def.type === 'string' || def.type === 'enum' || def.type === 'literal') return { kind: 'string', list: false };
  return { kind: 'json', list: false };
}

function converter(kind: FieldKind): (value: string) => unknown {
  switch (kind) {
    // Digits only: "1.5", "-5", "ten" go on as strings and the schema names its rule.
    case 'number': return (value) => (/^\d+$/.test(value) ? Number(value) : value);
    case 'json': return (value) => {
      try {
        return JSON.parse(value) as unknown;
      } catch {
        return value;
      }
    };
    default: return (value) => value;
  }
}

/** One generated flag: its commander option, and the input field it sets. */
interface GeneratedFlag {
  field: string;
  option: Option;
  /** Set by the negated spelling (`--no-email`): the flag gives false. */
  negated: boolean;
}

/** The long flag as a person types it (`--customer`), for error lines. */
export function flagName(job: AnyJob, field: string): string | undefined {
  const spelling = (job.doors.cli.flags as Record<string, { flag: string } | undefined>)[field]?.flag;
  return spelling ? new Option(spelling).long : undefined;
}

/**
 * Adds the job's flags to `command`. `defaults` (from the settings) shows in the help of the
 * flags it fills. Returns a reader of the input fields the person set on the command line.
 */
export function addJobFlags(command: Command, job: AnyJob, defaults: Record<string, unknown>): (command: Command) => Record<string, unknown> {
  const fields = inputFields(job);
  const generated: GeneratedFlag[] = [];
  for (const [field, entry] of Object.entries(job.doors.cli.flags as Record<string, { flag: string; help?: string }>)) {
    const schema = fields[field];
    if (!schema) throw new Error(`job ${job.kind}: doors.cli.flags names '${field}', which its schema does not have`);
    const { kind, list } = kindOf(schema);
    const shownDefault = defaults[field] !== undefined ? ` (default here: ${JSON.stringify(defaults[field])}, from the settings)` : '';
    const option = new Option(entry.flag, `${entry.help ?? schema.description ?? field}${shownDefault}`);
    if (kind !== 'boolean') {
      const convert = converter(kind);
      if (list) option.argParser((value: string, previous: unknown[] | undefined) => [...(previous ?? []), convert(value)]);
      else {
        // Commander keeps the last of a repeated flag; `--retention-days 400 --retention-days 30`
        // is more likely a mistake than a choice, so it is refused rather than guessed at.
        option.argParser((value: string, previous: unknown) => {
          if (previous !== undefined) throw new InvalidArgumentError(`${option.long} is given more than once; give it once (only list flags repeat)`);
          return convert(value);
        });
      }
    }
    command.addOption(option);
    generated.push({ field, option, negated: option.negate });
    // The other spelling of a switch (`--no-resend` for `--resend`), for scripts that spell out both.
    if (kind === 'boolean') {
      const base = (option.long ?? '').replace(/^--(no-)?/, '');
      const other = new Option(option.negate ? `--${base}` : `--no-${base}`).hideHelp();
      command.addOption(other);
      generated.push({ field, option: other, negated: other.negate });
    }
  }
  return (parsed) => {
    const values: Record<string, unknown> = {};
    const given = new Set<string>();
    for (const { field, option } of generated) {
      const key = option.attributeName();
      // Only what was typed: commander's implied defaults (true for `--no-email`) must not hide `--input`.
      if (parsed.getOptionValueSource(key) !== 'cli' || given.has(key)) continue;
      given.add(key);
      values[field] = parsed.getOptionValue(key);
    }
    return values;
  };
}

/**
 * Each problem as `<where>: <message>`: the flag when the field came from one (or nowhere),
 * `--input` when the field (or the input as a whole) came from `--input`, else the field.
 */
export function problemLines(job: AnyJob, problems: FieldProblem[], fromInputFlag: Record<string, unknown> = {}, fromFlags: Record<string, unknown> = {}): string[] {
  return problems.map((problem) => {
    const where =
      problem.field === 'input' || (problem.field in fromInputFlag && !(problem.field in fromFlags))
        ? '--input'
        : (flagName(job, problem.field) ?? problem.field);
    return `${where}: ${problem.message}`;
  });
}

/** `--input '<json>'`: any input field as JSON; an object, or a problem naming --input. */
export function parseInputFlag(text: string | undefined): { input: Record<string, unknown> } | { problem: FieldProblem } {
  if (text === undefined) return { input: {} };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { problem: { field: 'input', message: `input is not JSON (${(error as Error).message}); write it like '{"field": value}'` } };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problem: { field: 'input', message: 'input must be a JSON object' } };
  return { input: value as Record<string, unknown> };
}
