import { ApplicationFailure, Context, log } from '@temporalio/activity';
import { addImportCounts, emptyImportCounts, type ExcludedCustomers, type ImportCounts, type ResolvedImportInput } from '../import-orders-contract.js';
import { selectPage, startingInstant, type PageSelection } from '../services/import-pages.js';
import { readPage, type ReadPage } from '../services/order-page.js';
import type { OrderImport, PendingDays } from '../services/order-import.js';
import { SourceRateLimitedError, SourceRefusedError, type ShopOrdersClient } from '../services/shop-orders-client.js';
import { SourceBusyError, type SourceLock } from '../services/source-lock.js';
import { CorrectionsHeldElsewhereError, type ReportCorrections } from '../services/report-corrections.js';
import type { JobCounters, JobMetrics } from '../observability/job-metrics.js';
import { whileHeartbeating } from './heartbeats.js';

export interface ImportServices {
  orderImport: OrderImport;
  ordersApi: ShopOrdersClient;
  sourceLock: SourceLock;
  reportCorrections: ReportCorrections;
  /** How far before the committed cursor an incremental run starts reading: records a source commits late with an older updated_at. */
  overlapMs: number;
  /** Requests a second to the API, at most: the only importer of a source (the lock) keeps this pace, so it is the total. */
  maxRequestsPerSecond: number;
}

export interface ImportPagesRequest {
  source: string;
  window: ResolvedImportInput['window'];
  dryRun: boolean;
  pageSize: number;
  maxPages: number;
  /** The API's cursor where the previous activity of this run stopped; null: start from the committed cursor (or the window's start). */
  apiCursor: string | null;
}

export interface ImportPagesResult extends ImportCounts {
  /** Where the next activity continues; null when the source had nothing more. */
  apiCursor: string | null;
  caughtUp: boolean;
  /** Report days whose orders changed (for a dry run's answer; the days to regenerate are recorded in the database). */
  days: string[];
}

/** A day with more changed customers than one report run may name is regenerated for all of them. */
export const MAX_CUSTOMERS_PER_DAY = 100;
/** Days one takeAffectedDays returns; the workflow takes the next ones after regenerating these. */
export const DAYS_PER_TAKE = 50;

interface PagesProgress { apiCursor: string | null; counts: ImportCounts }

/** A page as the source sent it, its part this import writes, and that part read record by record. */
interface FetchedPage { nextCursor: string | null; selected: PageSelection; read: ReadPage }

/** What a page (or a quarantine retry) wrote, as the job's series; a dry run wrote nothing. */
function recordWritten(job: JobCounters, dryRun: boolean, written: { inserted: number; updated: number; quarantined: number }): void {
  if (dryRun) return;
  job.importRows(written);
  job.rowsWritten('orders', written.inserted + written.updated);
  job.itemsFailed(written.quarantined);
}

/** Thin wrappers: the paging loop, heartbeats and retry classification; the writes are OrderImport's. */
export function createImportActivities(services: ImportServices, metrics: JobMetrics) {
  /** One correction email per customer whose numbers changed, at most once per revision; those of `except` stay pending. */
  async function sendCorrections(request: { day: string; revision: string; except?: ExcludedCustomers }) {
    const context = Context.current();
    const execution = context.info.workflowExecution;
    if (!execution) throw new Error('sendReportCorrections runs only inside a workflow');
    const job = metrics.job(context.info.workflowType);
    try {
      return await whileHeartbeating<Awaited<ReturnType<ReportCorrections['send']>>, number>(async (report) => {
        let sent = 0;
        const result = await services.reportCorrections.send({
          ...request, workflowId: execution.workflowId, runId: execution.runId,
          attemptToken: `${execution.runId}:${context.info.activityId}:${context.info.attempt}`, signal: context.cancellationSignal,
          onSent: (outcome) => {
            job.email('correction', outcome);
            report(++sent);
          },
        });
        log.info('sent report corrections', { day: request.day, ...result });
        return result;
      });
    } catch (error) {
      // Another attempt (one the server gave up on) may still be sending: wait out its lease.
      if (error instanceof CorrectionsHeldElsewhereError) throw ApplicationFailure.create({ type: 'CorrectionsHeldElsewhere', message: error.message, nextRetryDelay: '30 seconds' });
      throw error;
    }
  }

  return {
    /**
     * Fetches and writes up to `maxPages` pages, each page's rows and the cursor after it in one
     * transaction. A retry resumes after the last page it wrote (heartbeat details); a cancel
     * takes effect between pages. No page's data leaves this activity: only counts and days.
     */
    async importOrderPages(request: ImportPagesRequest): Promise<ImportPagesResult> {
      const context = Context.current();
      const resumed = context.info.heartbeatDetails as PagesProgress | undefined;
      const job = metrics.job(context.info.workflowType);
      try {
        return await services.sourceLock.withLock(request.source, (lockLost) =>
          whileHeartbeating<ImportPagesResult, PagesProgress>(async (report) => {
            const counts = resumed?.counts ?? emptyImportCounts();
            const days = new Set<string>();
            // A retry whose earlier attempt read the source to its end (its cursor null) has nothing left to read.
            let caughtUp = resumed !== undefined && resumed.apiCursor === null;
            let apiCursor = resumed ? resumed.apiCursor : request.apiCursor;
            const updatedSince = apiCursor === null && !caughtUp
              ? startingInstant(request.window, request.window ? null : await services.orderImport.readCursor(request.source), services.overlapMs)
              : undefined;
            const pace = pacer(services.maxRequestsPerSecond);
            // A page is fetched, selected and read (validated) in one go: for the next page,
            // while this one is written, so the API, the worker and the database all work at
            // once (one page ahead, no more). A page read but never written is simply fetched
            // again by the retry, which resumes after the last page written.
            const fetchAt = async (cursor: string | null): Promise<FetchedPage> => {
              await pace(context.cancellationSignal);
              const fetched = await services.ordersApi.fetchPage({ limit: request.pageSize, signal: context.cancellationSignal, ...(cursor ? { cursor } : { updatedSince }) });
              job.importRows({ fetched: fetched.records.length });
              const selected = selectPage(fetched.records, request.window);
              return { nextCursor: fetched.nextCursor, selected, read: readPage(selected.records) };
            };
            let ahead: Promise<FetchedPage> | null = null;
            // A retry goes on counting from the pages its earlier attempts wrote (in the heartbeat's
            // counts): an activity writes at most maxPages pages however often it is retried.
            for (let page = counts.pages; page < request.maxPages && !caughtUp; page++) {
              if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason;
              if (lockLost.aborted) throw lockLost.reason;
              const fetched = await (ahead ?? fetchAt(apiCursor));
              ahead = null;
              const { selected } = fetched;
              if (fetched.nextCursor !== null && !selected.beyondWindow && page + 1 < request.maxPages) {
                ahead = fetchAt(fetched.nextCursor);
                // Awaited at the next page; if this page's write fails first, nobody will.
                ahead.catch(() => undefined);
              }
              const applied = await services.orderImport.applyReadPage({
                source: request.source, page: fetched.read, cursorAfter: selected.cursorAfter, dryRun: request.dryRun,
              });
              job.itemsProcessed(selected.records.length); // each page as it commits
              recordWritten(job, request.dryRun, applied);
              addImportCounts(counts, { ...emptyImportCounts(), ...applied, pages: 1, skipped: selected.skipped });
              for (const affected of applied.affected) days.add(affected.day);
              apiCursor = fetched.nextCursor;
              report({ apiCursor, counts });
              if (fetched.nextCursor === null || selected.beyondWindow) {
                caughtUp = true;
                break;
              }
            }
            log.info('imported order pages', { pages: counts.pages, inserted: counts.inserted, updated: counts.updated, quarantined: counts.quarantined, caughtUp });
            return { ...counts, apiCursor, caughtUp, days: [...days].sort() };
          }),
        );
      } catch (error) {
        throw asRetryDecision(error);
      }
    },

    /** Quarantined records validated again; those now valid are imported (one transaction, at most 1,000). */
    async retryQuarantinedOrders(request: { source: string }): Promise<ImportPagesResult> {
      // Under the source's lock, as pages are: a page's statement then always reads orders as
      // the last writer of its source left them (see WRITE_PAGE).
      let result: Awaited<ReturnType<OrderImport['retryQuarantined']>>;
      try {
        result = await services.sourceLock.withLock(request.source, () => services.orderImport.retryQuarantined({ source: request.source }));
      } catch (error) {
        throw asRetryDecision(error);
      }
      const job = metrics.job(Context.current().info.workflowType);
      job.itemsProcessed(result.retried);
      recordWritten(job, false, { inserted: result.inserted, updated: result.updated, quarantined: 0 });
      log.info('retried quarantined orders', { retried: result.retried, resolved: result.resolvedIds.length, still: result.stillQuarantined });
      const days = new Set(result.affected.map((affected) => affected.day));
      return {
        ...emptyImportCounts(), inserted: result.inserted, updated: result.updated, unchanged: result.unchanged, cancelled: result.cancelled,
        resolvedFromQuarantine: result.resolvedIds.length, apiCursor: null, caughtUp: false, days: [...days].sort(),
      };
    },

    /** The report days imports changed and nobody regenerated yet (recorded with their pages). */
    async takeAffectedDays(request: { source: string; afterDay?: string }): Promise<PendingDays> {
      return whileHeartbeating<PendingDays, number>(async (report) => {
        // Imports without regeneration leave their pages' days logged, page by page: moved here
        // a bounded statement at a time, heartbeating, so the take below (which holds the
        // source's cursor lock) moves only the pages written since.
        let movedPages = 0;
        for (let moved = -1; moved !== 0;) {
          moved = await services.orderImport.moveLoggedDays(request.source);
          report((movedPages += moved));
        }
        // A bounded number of days a call: each costs the workflow some 25 history events.
        const pending = await services.orderImport.takeAffectedDays(request.source, MAX_CUSTOMERS_PER_DAY, { maxDays: DAYS_PER_TAKE, ...(request.afterDay ? { afterDay: request.afterDay } : {}) });
        log.info('report days to regenerate', { days: pending.days.length, movedPages });
        return pending;
      });
    },

    /** A regenerated day's recorded changes, forgotten (changes recorded after `takenAt` stay). */
    async clearAffectedDays(request: { source: string; day: string; taken: number[] | 'all'; takenAt: string }): Promise<number> {
      return services.orderImport.clearAffectedDays({ source: request.source, day: request.day, customerIds: request.taken, takenAt: request.takenAt });
    },

    /**
     * The same for a day some of whose customers failed to regenerate: theirs stay pending, under
     * this revision. A separate activity (not an option of clearAffectedDays) so that a worker
     * from before it, during a rolling deploy, cannot run it and forget the failed customers too.
     */
    async clearAffectedDaysSparing(request: { source: string; day: string; taken: number[] | 'all'; takenAt: string; revision: string; spared: ExcludedCustomers }): Promise<number> {
      return services.orderImport.clearAffectedDaysSparing({
        source: request.source, day: request.day, customerIds: request.taken, takenAt: request.takenAt, revision: request.revision, spared: request.spared,
      });
    },

    /** Before a changed day is regenerated: the reports its customers were already sent, kept for their corrections. */
    async recordReportsBeforeCorrection(request: { day: string; customerIds: number[] | null; revision: string }): Promise<number> {
      const kept = await services.reportCorrections.recordBefore(request);
      log.info('kept reports before correction', { day: request.day, customers: kept });
      return kept;
    },

    /** After the day was regenerated: one correction email per customer whose numbers changed, at most once per revision. */
    async sendReportCorrections(request: { day: string; revision: string }) {
      return sendCorrections(request);
    },

    /**
     * The same for a day some of whose customers failed to regenerate: theirs stay pending
     * (their reports were not rebuilt). Its own activity, as clearAffectedDaysSparing is.
     */
    async sendReportCorrectionsSparing(request: { day: string; revision: string; spared: ExcludedCustomers }) {
      return sendCorrections({ day: request.day, revision: request.revision, except: request.spared });
    },
  };
}

/** Waits, before each request, until 1/rate seconds have passed since the previous one. */
function pacer(perSecond: number): (signal: AbortSignal) => Promise<void> {
  const interval = 1000 / perSecond;
  let last = -Infinity;
  return async (signal) => {
    const wait = last + interval - Date.now();
    if (wait > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
      });
    }
    last = Date.now();
  };
}

/** Temporal's retry, told what the failure means: wait as the API asks, or give up at once. */
function asRetryDecision(error: unknown): unknown {
  if (error instanceof SourceRateLimitedError) {
    return ApplicationFailure.create({ type: 'SourceRateLimited', message: error.message, nextRetryDelay: Math.max(error.retryAfterMs, 1000) });
  }
  if (error instanceof SourceBusyError) return ApplicationFailure.create({ type: 'SourceBusy', message: error.message, nextRetryDelay: '5 seconds' });
  if (error instanceof SourceRefusedError) return ApplicationFailure.create({ type: 'SourceRefused', message: error.message, nonRetryable: true });
  if (error instanceof Error && error.name === 'SchemaBreakError') {
    return ApplicationFailure.create({ type: 'SourceSchemaBreak', message: error.message, nonRetryable: true });
  }
  return error;
}

export type ImportActivities = ReturnType<typeof createImportActivities>;
