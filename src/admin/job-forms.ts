/**
 * The admin page's start forms, derived from the job registry: every job that declares
 * `doors.form` gets a form on the customer page with its `fields`, each shown by its type in
 * the job's schema (a YYYY-MM-DD string is a date field, a boolean a checkbox, a number a
 * number field), labelled with its name and explained by the schema's `.describe()`.
 *
 * Reading a posted form only turns text into the types the schema takes; the rules are the
 * job's own `resolve`, which the route calls once. Its problems are data ({ field, message }):
 * each goes next to the form field of the same name, `customerIds` and the rest above the form.
 */
import { z } from 'zod';
import type { Config } from '../config.js';
import { JOBS } from '../jobs/index.js';
import type { AnyJob } from '../jobs/job-definition.js';
import type { AdminUser } from '../services/admin-users.js';
import type { FieldProblem } from '../validation.js';

/** The input field the customer page fills with its customer; its problems show above the form. */
export const CUSTOMER_FIELD = 'customerIds';

export type FormControl = 'date' | 'checkbox' | 'number' | 'text';

export interface FormField {
  /** The input field's name, also the form control's name. */
  name: string;
  control: FormControl;
  label: string;
  /** The schema's `.describe()`. */
  help: string;
  min?: number;
  max?: number;
}

export interface StartForm {
  job: AnyJob;
  fields: FormField[];
  /** The job's input has `customerIds`: a run started here is for the page's customer only. */
  forCustomer: boolean;
  /** Form values from the schema's own `.default()`s. */
  schemaDefaults: Record<string, unknown>;
}

/** What the form shows: text as typed, checkboxes ticked or not. */
export type FormValues = Record<string, string | boolean>;

export interface FormErrors {
  /** By form field name. */
  fields: Record<string, string[]>;
  /** About the customer (`customerIds`, the page's id). */
  customer: string[];
  /** About the input as a whole, a field the form does not show, or the start itself. */
  form: string[];
}

/** One job's form as the customer page shows it. */
export interface FormState {
  form: StartForm;
  values: FormValues;
  errors: FormErrors;
}

/** A field's JSON Schema, as zod writes it: the part a form control needs. */
interface FieldSchema {
  type?: string;
  pattern?: string;
  description?: string;
  minimum?: number;
  maximum?: number;
  default?: unknown;
}

/** The calendar-day pattern the schemas use for days (src/contracts.ts `isoDate`). */
const DAY_PATTERN = '^\\d{4}-\\d{2}-\\d{2}$';

const forms = new Map<AnyJob, StartForm>();

/** The forms of every registered job that declares one, in registry order. */
export function startForms(): StartForm[] {
  return JOBS.filter((job) => job.doors.form).map(startFormOf);
}

/** The form of the job of this kind; undefined when no registered job of that kind has one. */
export function startFormFor(kind: string): StartForm | undefined {
  const job = JOBS.find((candidate) => candidate.kind === kind && candidate.doors.form);
  return job ? startFormOf(job) : undefined;
}

export function mayStart(user: AdminUser, job: AnyJob): boolean {
  return job.doors.form?.roles.includes(user.role) ?? false;
}

/** "regenerate-reports" → "Regenerate reports", "sendEmail" → "Send email". */
export function humanize(name: string): string {
  const words = name.replace(/-/g, ' ').replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function startFormOf(job: AnyJob): StartForm {
  const known = forms.get(job);
  if (known) return known;
  const declared = job.doors.form!;
  const schema = z.toJSONSchema(job.schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, FieldSchema> };
  const properties = schema.properties ?? {};
  const schemaDefaults: Record<string, unknown> = {};
  const fields = declared.fields.map((name: string): FormField => {
    const property = properties[name];
    const control = property ? controlOf(property) : null;
    // A registry mistake, found by the first page that lists the forms (and by the tests), not by a user.
    if (!property || !control) throw new Error(`job ${job.kind}: form field ${name} is ${property ? `of a type the admin form cannot show (${property.type})` : 'not in its schema'}`);
    if (property.default !== undefined) schemaDefaults[name] = property.default;
    return {
      name,
      control,
      label: humanize(name),
      help: property.description ?? '',
      ...(property.minimum !== undefined && Number.isSafeInteger(property.minimum) ? { min: property.minimum } : {}),
      ...(property.maximum !== undefined && property.maximum < Number.MAX_SAFE_INTEGER ? { max: property.maximum } : {}),
    };
  });
  const form = { job, fields, forCustomer: CUSTOMER_FIELD in properties, schemaDefaults };
  forms.set(job, form);
  return form;
}

function controlOf(property: FieldSchema): FormControl | null {
  if (property.type === 'boolean') return 'checkbox';
  if (property.type === 'integer' || property.type === 'number') return 'number';
  if (property.type === 'string') return property.pattern === DAY_PATTERN ? 'date' : 'text';
  return null;
}

export function noErrors(): FormErrors {
  return { fields: {}, customer: [], form: [] };
}

export function hasErrors(errors: FormErrors): boolean {
  return errors.customer.length > 0 || errors.form.length > 0 || Object.values(errors.fields).some((list) => list.length > 0);
}

export function allMessages(errors: FormErrors): string[] {
  return [...Object.values(errors.fields).flat(), ...errors.customer, ...errors.form];
}

/**
 * What this deployment's settings give every run the page starts (`defaultsFromConfig`, as the
 * CLI's defaults): under what the person filled in, and shown in the form before they type.
 */
export function settingsDefaults(job: AnyJob, config: Config): Record<string, unknown> {
  return (job.defaultsFromConfig?.(config) ?? {}) as Record<string, unknown>;
}

/**
 * What the form shows before anyone typed: the job's form defaults, else the settings' (what a
 * field left empty runs with), else the schema's, else empty.
 */
export function defaultState(form: StartForm, now: Date, config: Config): FormState {
  const defaults: Record<string, unknown> = { ...form.schemaDefaults, ...settingsDefaults(form.job, config), ...form.job.doors.form?.defaults?.(now) };
  const values: FormValues = {};
  for (const field of form.fields) {
    const value = defaults[field.name];
    values[field.name] = field.control === 'checkbox' ? value === true : value === undefined || value === null ? '' : String(value);
  }
  return { form, values, errors: noErrors() };
}

/**
 * The posted form as input: only the form's own fields are read (a `customerIds` added to an
 * edited form is ignored; the customer comes from the URL), an empty field is left out so its
 * default applies, and an unticked checkbox (which browsers do not send) is false.
 */
export function readForm(form: StartForm, body: unknown): { values: FormValues; input: Record<string, unknown>; errors: FormErrors } {
  const posted = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const values: FormValues = {};
  const input: Record<string, unknown> = {};
  const errors = noErrors();
  const problem = (name: string, message: string) => (errors.fields[name] ??= []).push(message);
  for (const { name, control } of form.fields) {
    const value = posted[name];
    if (control === 'checkbox') {
      values[name] = value === 'on' || value === 'true';
      if (value !== undefined && !values[name]) problem(name, `${name} must be ticked or not`);
      else input[name] = values[name];
      continue;
    }
    values[name] = '';
    if (value === undefined) continue;
    if (typeof value !== 'string') {
      problem(name, `${name} must be given once`);
      continue;
    }
    const text = value.trim();
    values[name] = text;
    // A number field's text that is not a number goes to the schema as it is, which says the rule.
    if (text !== '') input[name] = control === 'number' && /^[-+]?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
  }
  return { values, input, errors };
}

/** Each problem next to the form field it names; `customerIds` and any other field above the form. */
export function placeProblems(form: StartForm, problems: FieldProblem[], errors: FormErrors): void {
  for (const { field, message } of problems) {
    if (field === CUSTOMER_FIELD) errors.customer.push(message);
    else if (form.fields.some((formField) => formField.name === field)) (errors.fields[field] ??= []).push(message);
    else errors.form.push(message);
  }
}

/** The audit row's parameters of a start: the form's fields as the run will have them. */
export function startedParameters(form: StartForm, workflowInput: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(form.fields.map((field) => [field.name, workflowInput[field.name]]));
}
