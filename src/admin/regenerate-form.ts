import { InvalidInputError, resolveRegenerateInput, type RegenerateReportsInput } from '../contracts.js';
import { addDays } from '../dates.js';

/**
 * The "Regenerate" form: raw form fields → workflow input, with each problem attached to the
 * field it is about. The rules themselves are the contract's (`resolveRegenerateInput`), so
 * the form, the CLI and the workflow can never disagree about what is valid.
 */
export type RegenerateField = 'customer' | 'from' | 'to' | 'sendEmail' | 'resend' | 'dryRun' | 'form';
export type FieldErrors = Partial<Record<RegenerateField, string[]>>;

export interface RegenerateFormValues {
  from: string;
  to: string;
  sendEmail: boolean;
  resend: boolean;
  dryRun: boolean;
}

export interface ParsedRegenerateForm {
  values: RegenerateFormValues;
  input: RegenerateReportsInput;
  errors: FieldErrors;
}

/** What the form shows before anyone typed: yesterday (UTC), with email. */
export function defaultRegenerateValues(now: Date): RegenerateFormValues {
  const yesterday = addDays(now.toISOString().slice(0, 10), -1);
  return { from: yesterday, to: yesterday, sendEmail: true, resend: false, dryRun: false };
}

/** `customerId` null: the id itself was not valid (reported by the caller); the other fields are still checked. */
export function parseRegenerateForm(customerId: number | null, body: unknown, now: Date): ParsedRegenerateForm {
  const fields = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const errors: FieldErrors = {};
  const text = (name: 'from' | 'to'): string => {
    const value = fields[name];
    if (value === undefined) return '';
    if (typeof value !== 'string') {
      addError(errors, name, 'must be given once');
      return '';
    }
    return value.trim();
  };
  const checkbox = (name: 'sendEmail' | 'resend' | 'dryRun'): boolean => {
    const value = fields[name];
    if (value === undefined) return false; // an unticked checkbox is not sent at all
    if (value === 'on' || value === 'true') return true;
    addError(errors, name, 'must be ticked or not');
    return false;
  };
  const values: RegenerateFormValues = { from: text('from'), to: text('to'), sendEmail: checkbox('sendEmail'), resend: checkbox('resend'), dryRun: checkbox('dryRun') };
  const input: RegenerateReportsInput = {
    ...(customerId !== null ? { customerIds: [customerId] } : {}),
    ...(values.from ? { from: values.from } : {}),
    ...(values.to ? { to: values.to } : {}),
    sendEmail: values.sendEmail,
    resend: values.resend,
    dryRun: values.dryRun,
  };
  try {
    resolveRegenerateInput(input, now);
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    for (const problem of error.problems) addError(errors, FORM_FIELD_OF[problem.field] ?? 'form', problem.message);
  }
  return { values, input, errors };
}

export function addError(errors: FieldErrors, field: RegenerateField, message: string): void {
  (errors[field] ??= []).push(message);
}

export function hasErrors(errors: FieldErrors): boolean {
  return Object.values(errors).some((list) => list && list.length > 0);
}

/** Where each input field's problems show on the form (the rest above it). */
const FORM_FIELD_OF: Partial<Record<string, RegenerateField>> = {
  customerIds: 'customer', from: 'from', to: 'to', sendEmail: 'sendEmail', resend: 'resend', dryRun: 'dryRun',
};
