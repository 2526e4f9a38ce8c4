import type { UnavailableCustomer } from '../services/customer-selection.js';
import type { AnyJob } from './job-definition.js';

/**
 * The customers a run of `job` may not name, of those the database could not run as active
 * (CustomerSelection.findUnavailable): all of them for a job of active customers (the default),
 * only the unknown ones for a job that takes any existing customer (`customers: 'existing'`).
 */
export function refusedCustomers(job: AnyJob, unavailable: UnavailableCustomer[]): UnavailableCustomer[] {
  return (job.customers ?? 'active') === 'existing' ? unavailable.filter((customer) => customer.reason === 'unknown') : unavailable;
}
