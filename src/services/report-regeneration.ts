import type pg from 'pg';
import { inTransaction, type Pool } from '../db/pool.js';
import type { CustomerBatch, CustomerFailure } from '../contracts.js';
import { CustomerSelection } from './customer-selection.js';
import {
  COUNT_REPORT_CHANGES,
  INSERT_REPORT_ROWS,
  LOCK_ACTIVE_CUSTOMERS_IN_RANGE,
  LOCK_CUSTOMERS_BY_ID,
  PURGE_REPORT_ROWS,
} from './report-sql.js';

export interface RegenerateBatchRequest {
  batch: CustomerBatch;
  from: string;
  to: string;
  /** Recorded on every written row: which workflow (run) produced it. */
  workflowId: string;
  dryRun: boolean;
}

export interface RegenerateBatchResult {
  /** Customers whose rows were rebuilt (or, in a dry run, compared). */
  customerIds: number[];
  rowsWritten: number;
  rowsThatWouldChange: number;
  failures: CustomerFailure[];
}

export interface RegenerateBatchesRequest extends Omit<RegenerateBatchRequest, 'batch'> {
  batches: CustomerBatch[];
}

/** How far a run of several batches got: the first `done` batches, with their merged result. */
export interface BatchesProgress {
  done: number;
  result: RegenerateBatchResult;
}

/**
 * Purges and regenerates daily report rows. A batch runs in one transaction, so no reader
 * ever sees a customer with rows deleted and not yet rebuilt. If the batch fails because of
 * one customer's data, each customer is retried alone so the others' work is not lost.
 */
export class ReportRegeneration {
  constructor(private readonly pool: Pool) {}

  async regenerateBatch(request: RegenerateBatchRequest): Promise<RegenerateBatchResult> {
    try {
      return await inTransaction(this.pool, (client) => this.regenerateLocked(client, request, request.batch));
    } catch (error) {
      if (!isDataError(error)) throw error; // connection or server trouble: let the caller retry the batch
    }
    return this.regenerateOneByOne(request);
  }

  /**
   * Regenerates batches one after another, each in its own transaction (so each customer
   * stays atomic and locks are held for one batch only). `resume` skips batches an earlier
   * attempt finished; `onBatchDone` hears about each finished batch, so a caller can record
   * where to resume. Redoing a finished batch is harmless, only slower: regeneration is idempotent.
   */
  async regenerateBatches(
    request: RegenerateBatchesRequest,
    options: { resume?: BatchesProgress; onBatchDone?: (progress: BatchesProgress) => void } = {},
  ): Promise<RegenerateBatchResult> {
    const { batches, ...rest } = request;
    const resume = options.resume && options.resume.done <= batches.length ? options.resume : undefined;
    const result: RegenerateBatchResult = resume ? structuredClone(resume.result) : emptyResult();
    for (let done = resume?.done ?? 0; done < batches.length; ) {
      addResult(result, await this.regenerateBatch({ ...rest, batch: batches[done]! }));
      done++;
      options.onBatchDone?.({ done, result });
    }
    return result;
  }

  private async regenerateOneByOne(request: RegenerateBatchRequest): Promise<RegenerateBatchResult> {
    const ids = await this.resolveIds(request.batch);
    const result = emptyResult();
    for (const customerId of ids) {
      try {
        addResult(result, await inTransaction(this.pool, (client) => this.regenerateLocked(client, request, { customerIds: [customerId] })));
      } catch (error) {
        if (!isDataError(error)) throw error;
        result.failures.push({ customerId, step: 'regenerate', reason: (error as Error).message });
      }
    }
    return result;
  }

  private async regenerateLocked(client: pg.PoolClient, request: RegenerateBatchRequest, batch: CustomerBatch): Promise<RegenerateBatchResult> {
    const locked = 'customerIds' in batch
      ? await client.query<{ id: number }>(LOCK_CUSTOMERS_BY_ID, [batch.customerIds])
      : await client.query<{ id: number }>(LOCK_ACTIVE_CUSTOMERS_IN_RANGE, [batch.firstId, batch.lastId, batch.timeZones ?? null]);
    const ids = locked.rows.map((row) => row.id);
    const empty = { customerIds: ids, rowsWritten: 0, rowsThatWouldChange: 0, failures: [] };
    if (ids.length === 0) return empty;
    if (request.dryRun) {
      const { rows } = await client.query<{ changes: number }>(COUNT_REPORT_CHANGES, [ids, request.from, request.to]);
      return { ...empty, rowsThatWouldChange: rows[0]?.changes ?? 0 };
    }
    await client.query(PURGE_REPORT_ROWS, [ids, request.from, request.to]);
    const inserted = await client.query(INSERT_REPORT_ROWS, [ids, request.from, request.to, request.workflowId]);
    return { ...empty, rowsWritten: inserted.rowCount ?? 0 };
  }

  private resolveIds(batch: CustomerBatch): Promise<number[]> {
    if ('customerIds' in batch) return Promise.resolve(batch.customerIds);
    return new CustomerSelection(this.pool).activeIdsInRange(batch.firstId, batch.lastId, batch.timeZones);
  }
}

function emptyResult(): RegenerateBatchResult {
  return { customerIds: [], rowsWritten: 0, rowsThatWouldChange: 0, failures: [] };
}

function addResult(total: RegenerateBatchResult, one: RegenerateBatchResult): void {
  total.customerIds.push(...one.customerIds);
  total.rowsWritten += one.rowsWritten;
  total.rowsThatWouldChange += one.rowsThatWouldChange;
  total.failures.push(...one.failures);
}

/**
 * Errors caused by one customer's data (SQLSTATE class 22, e.g. an invalid time zone, or 23,
 * an integrity violation) are that customer's failure; anything else is infrastructure and retried.
 */
function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}
