/**
 * What a job kind declares once, for every door to read (src/jobs/index.ts lists them all).
 *
 * Glossary: a *job* is a kind of background work (regenerate reports, purge old reports); a
 * *run* is one workflow execution of it; a *door* is a way a person or program starts or
 * watches runs: the CLI (`npm run job`), `temporal workflow start`, a schedule, the admin
 * page, or code (`startJob`). The workflow in src/workflows, its activities in
 * src/activities and its services in src/services do the work; this entry ties them to the doors.
 *
 * Modelled on graphile-worker's task list: no door names a job, every door reads this.
 */
import type { SearchAttributePair } from '@temporalio/common';
import type { QueryDefinition } from '@temporalio/common';
import type { z } from 'zod';
import type { Config } from '../config.js';
import type { AdminRole } from '../services/admin-users.js';
import type { StartedFrom } from '../temporal/runs.js';

/** How a finished run went, for exit codes and badges. */
export type RunOutcome = 'ok' | 'cancelled' | 'some-failed';

/** How one input field appears as a CLI flag. The field's rule and help text come from the schema. */
export interface CliFlag {
  /** The flag as commander spells it, e.g. `--customer <id>` (repeatable for list fields) or `--no-email`. */
  flag: string;
  /** Overrides the schema's description in `--help`. */
  help?: string;
}

/** How a run's progress shows: the Web UI's current details and the CLI's bar read the same query. */
export interface ProgressView<Progress> {
  query: QueryDefinition<Progress>;
  /** One line, e.g. "batch 12/40, 4,800/10,000 customers". */
  describe(progress: Progress): string;
  /** The bar: how much is done of how much, and of what. */
  bar(progress: Progress): { done: number; total: number; unit: string; detail: string };
}

/** The summary a completed run returns, read by every door. */
export interface SummaryView<Summary> {
  /** One line for people: counts, failures. */
  describe(summary: Summary): string;
  outcome(summary: Summary): RunOutcome;
  /**
   * A completed run's failed items (customers, days) and quarantined records: a scheduled run's
   * alert compares them with ALERT_FAILED_ITEMS_THRESHOLD and ALERT_QUARANTINED_THRESHOLD.
   */
  counts(summary: Summary): { failedItems: number; quarantined: number };
  /** The exact commands that repair what the summary says failed, quoted by alerts (absent or empty: generic advice). */
  fixCommands?(summary: Summary, workflowId: string): string[];
}

/** Jobs whose runs record per-item failures (customers) that a new run can retry alone. */
export interface RerunFailed<Input, Summary> {
  /**
   * The inputs of the runs that retry just the failures of a finished run, given its summary
   * and the input it ran with (from its memo); empty when nothing failed. `expand` turns a
   * failed id range back into ids.
   */
  inputs(summary: Summary, ranInput: Partial<Input>, helpers: RerunHelpers): Promise<{ inputs: Input[]; notes: string[] }>;
}

export interface RerunHelpers {
  activeIdsInRange(firstId: number, lastId: number, timeZones?: string[]): Promise<number[]>;
  /** Options every manual run of this job gets from the settings (batch sizes…). */
  defaults: Record<string, unknown>;
}

/** The admin page's start form for a job: which fields, who may use it. */
export interface AdminForm<Input> {
  /** Fields shown, in order; every other field keeps its default. `customerIds` is filled from the customer page. */
  fields: Array<keyof Input & string>;
  /** Roles that may start runs from the form (every start is audited). */
  roles: readonly AdminRole[];
  /**
   * What the form shows before anyone typed, when that is not the schema's own `.default()`
   * (a default that depends on the day, such as yesterday). Fields left out show empty or unticked.
   */
  defaults?(now: Date): Partial<Input>;
}

/** How a schedule's scheduled times relate to the days a run covers: what `schedules backfill --from --to` needs. */
export interface ScheduleSupport {
  /** How `--from..--to` (days) becomes the scheduled times whose runs cover them. */
  backfill?: { maxDays: number; window(from: string, to: string, input: Record<string, unknown>): { start: Date; end: Date } };
  /** Says, for `schedules describe`, what the run at a scheduled time covers. */
  covers(scheduledAt: Date, input: Record<string, unknown>): string;
}

export interface JobDefinition<Input extends object = Record<string, unknown>, Resolved = unknown, Summary = unknown, Progress = unknown> {
  /** The job's name at every door: `npm run job -- <kind>`, the admin page's filter, schedule declarations. */
  kind: string;
  /** The workflow function's name, registered by the worker (src/workflows/index.ts). */
  workflowType: string;
  /** One sentence: what a run does. */
  description: string;
  /** The input: the one list of its fields, each with its rule and (`.describe()`) its help text. */
  schema: z.ZodType<Input | undefined>;
  /**
   * Input this deployment's settings give every manual run (`REPORT_BATCH_SIZE`…), under what
   * the person gives: the CLI and `rerun-failed` start from it. Absent: the schema's defaults.
   */
  defaultsFromConfig?(config: Config): Partial<Input>;
  /**
   * Which customers a run may name in `customerIds`, checked by the doors before a run starts:
   * 'active' (the default) refuses inactive customers (they get no reports); 'existing' takes
   * any customer that exists, active or not (purging or re-importing an inactive customer's
   * data is legitimate). Unknown ids are refused for every job.
   */
  customers?: 'active' | 'existing';
  /** Validates and fills defaults (throws InvalidInputError): what the run will do, the same at every door and in the workflow. */
  resolve(raw: unknown, now: Date): Resolved;
  /** The workflow input that runs exactly `resolved` (defaults filled, so a late start does the same). */
  workflowInput(resolved: Resolved): Input;
  /** Readable and collision-free: what, for whom, when. Equal ids refuse a second run while one runs. */
  workflowId(resolved: Resolved, context: { taskQueue: string; startedFrom: StartedFrom }): string;
  /** Search attributes beyond DjStartedFrom (which every run gets). */
  searchAttributes(resolved: Resolved): SearchAttributePair[];
  /** The Web UI's summary line and details for a run. */
  staticSummary(resolved: Resolved): string;
  staticDetails?(resolved: Resolved): string;
  progress?: ProgressView<Progress>;
  summary: SummaryView<Summary>;
  doors: {
    /** Input fields `npm run job -- <kind>` takes as flags (the others keep their defaults; `--input <json>` sets any). */
    cli: { flags: Partial<Record<keyof Input & string, CliFlag>> };
    form?: AdminForm<Input>;
    schedule?: ScheduleSupport;
  };
  rerunFailed?: RerunFailed<Input, Summary>;
}

/** A job of any input, summary and progress, as the registry holds them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyJob = JobDefinition<any, any, any, any>;
