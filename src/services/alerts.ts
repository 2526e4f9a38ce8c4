import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Pool } from '../db/pool.js';
import type { AlertChannel, ChannelName } from './alert-channels.js';
import { renderAlert, type AlertFacts } from './alert-message.js';

/**
 * How long a delivery's claim keeps every other attempt off it. A send is cut off (its
 * connection closed) after SEND_TIMEOUT_MS, well inside the lease, so no send outlives the
 * claim that allowed it: another attempt takes a claim over only when its holder has certainly
 * stopped sending (it died, or it was cut off and its send timed out). It also bounds how long
 * an alert waits after its sender died: a retry takes over once the lease has run out.
 */
export const ALERT_LEASE_MS = 30_000;
export const SEND_TIMEOUT_MS = 15_000;

export interface AlertLease {
  ms: number;
  sendTimeoutMs: number;
}

const DEFAULT_LEASE: AlertLease = { ms: ALERT_LEASE_MS, sendTimeoutMs: SEND_TIMEOUT_MS };

/** Pause between tries to record a send after recording failed (the database restarting). */
const MARK_RETRY_MS = 250;

/** What one delivery attempt of one alert did, channel by channel. */
export interface DeliveryReport {
  alertId: number;
  /** Sent by this call. */
  sent: ChannelName[];
  /** Sent before (by another attempt, process or call). */
  alreadySent: ChannelName[];
  /** Refused for good (SMTP 5xx, webhook 4xx): never tried again. */
  refused: Array<{ channel: ChannelName; reason: string }>;
  /** Claimed by another attempt that may still be sending: free at the latest in `forMs`. */
  held: Array<{ channel: ChannelName; forMs: number }>;
  /** Failed this time (the claim released): try again later. */
  failed: Array<{ channel: ChannelName; error: string }>;
  /** Recorded for a channel this process has no settings for (ALERT_EMAIL or ALERT_WEBHOOK_URL unset here). */
  notConfigured: ChannelName[];
}

export interface DeliverOptions {
  /** Names this attempt; its claims carry it. Default: a fresh one (an attempt of its own). */
  attemptToken?: string;
  /** Aborted: no new send starts; the claims not sent are released. */
  signal?: AbortSignal;
}

/**
 * Alerts, each sent at most once per incident and channel, with the report emails' discipline
 * (src/services/email-claims.ts): an alert is recorded once per incident key
 * (`alerts.incident_key`), and each of its deliveries (email, webhook) is claimed by one
 * attempt under a lease before it is sent, then marked sent. A second raiser, a retry, or a
 * monitor in another process finds the record and the claim and sends nothing. A claim is taken
 * over only once released (its holder failed and said so) or its lease has run out (the holder
 * died). If the holder died after the SMTP server or the webhook accepted and before the mark,
 * the alert is sent again once the lease runs out, with the same Message-ID and Idempotency-Key
 * (no sender can know whether an answer it never read was "accepted").
 */
export class Alerts {
  private readonly channels: Map<ChannelName, AlertChannel>;
  private readonly lease: AlertLease;

  constructor(
    private readonly pool: Pool,
    options: { channels: AlertChannel[]; lease?: AlertLease },
  ) {
    this.channels = new Map(options.channels.map((channel) => [channel.name, channel]));
    this.lease = options.lease ?? DEFAULT_LEASE;
  }

  /** The channels alerts are recorded for in this process. */
  channelNames(): ChannelName[] {
    return [...this.channels.keys()];
  }

  /**
   * Records the incident, with a pending delivery per configured channel, unless it was
   * recorded before (by anyone): then this changes nothing. `created` says which.
   */
  async raise(facts: AlertFacts): Promise<{ alertId: number; created: boolean }> {
    const { rows } = await this.pool.query<{ id: number }>(
      `WITH inserted AS (
         INSERT INTO alerts (incident_key, kind, facts) VALUES ($1, $2, $3)
         ON CONFLICT (incident_key) DO NOTHING
         RETURNING id
       ), deliveries AS (
         INSERT INTO alert_deliveries (alert_id, channel) SELECT inserted.id, channel FROM inserted, unnest($4::text[]) AS channel
       )
       SELECT id FROM inserted`,
      [facts.incidentKey, facts.kind, JSON.stringify(facts), this.channelNames()],
    );
    if (rows[0]) return { alertId: rows[0].id, created: true };
    // Recorded before, or by a concurrent raiser whose row this statement's snapshot did not see.
    const existing = await this.pool.query<{ id: number }>('SELECT id FROM alerts WHERE incident_key = $1', [facts.incidentKey]);
    return { alertId: existing.rows[0]!.id, created: false };
  }

  /** Sends the alert's deliveries not sent yet, each under a claim of this attempt's. */
  async deliver(alertId: number, options: DeliverOptions = {}): Promise<DeliveryReport> {
    const token = options.attemptToken ?? randomUUID();
    const report: DeliveryReport = { alertId, sent: [], alreadySent: [], refused: [], held: [], failed: [], notConfigured: [] };
    const { rows } = await this.pool.query<{ channel: ChannelName; facts: AlertFacts }>(
      `SELECT d.channel, a.facts FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id WHERE d.alert_id = $1 ORDER BY d.channel`,
      [alertId],
    );
    for (const { channel: name, facts } of rows) {
      const channel = this.channels.get(name);
      if (!channel) {
        report.notConfigured.push(name);
        continue;
      }
      await this.deliverOne(alertId, channel, facts, token, options.signal, report);
    }
    return report;
  }

  /**
   * Delivers every alert with a delivery nobody holds (never claimed, released, or its holder's
   * lease ran out): the monitor's sweep, so an alert whose sender gave up or died still goes out.
   */
  async deliverPending(options: { limit?: number; signal?: AbortSignal } = {}): Promise<DeliveryReport[]> {
    const { rows } = await this.pool.query<{ alert_id: number }>(
      `SELECT DISTINCT alert_id FROM alert_deliveries
        WHERE state = 'pending' AND channel = ANY($1::text[]) AND (claim_token IS NULL OR lease_until <= now())
        ORDER BY alert_id LIMIT $2`,
      [this.channelNames(), options.limit ?? 20],
    );
    const reports: DeliveryReport[] = [];
    for (const row of rows) reports.push(await this.deliver(row.alert_id, { ...(options.signal ? { signal: options.signal } : {}) }));
    return reports;
  }

  private async deliverOne(alertId: number, channel: AlertChannel, facts: AlertFacts, token: string, signal: AbortSignal | undefined, report: DeliveryReport): Promise<void> {
    const name = channel.name;
    if (signal?.aborted) {
      report.failed.push({ channel: name, error: 'stopped before sending: the attempt was cancelled' });
      return;
    }
    const claimedAt = performance.now();
    const claimed = await this.pool.query(
      `UPDATE alert_deliveries
          SET claim_token = $3, lease_until = now() + $4 * interval '1 millisecond', attempts = attempts + 1
        WHERE alert_id = $1 AND channel = $2 AND state = 'pending'
          AND (claim_token IS NULL OR claim_token = $3 OR lease_until <= now())`,
      [alertId, name, token, this.lease.ms],
    );
    if (claimed.rowCount === 0) return this.countUnclaimed(alertId, name, report);
    // The lease began no earlier than claimedAt by the database's clock, so it lasts at least
    // until claimedAt + lease by ours (monotonic: a wall-clock step cannot stretch it).
    const leaseEnd = claimedAt + this.lease.ms;
    const timeoutMs = Math.min(this.lease.sendTimeoutMs, leaseEnd - performance.now() - 2 * MARK_RETRY_MS);
    let outcome: Awaited<ReturnType<AlertChannel['send']>>;
    try {
      if (timeoutMs < 1_000) throw new Error('the claim took too long to take; trying again');
      outcome = await channel.send(renderAlert(facts), timeoutMs);
    } catch (error) {
      const message = (error as Error).message;
      await this.pool.query(
        `UPDATE alert_deliveries SET claim_token = NULL, lease_until = NULL, last_error = $4
          WHERE alert_id = $1 AND channel = $2 AND claim_token = $3 AND state = 'pending'`,
        [alertId, name, token, message],
      ).catch(() => undefined); // unreleased, the claim frees itself when its lease runs out
      report.failed.push({ channel: name, error: message });
      return;
    }
    if (outcome !== 'sent') {
      await this.pool.query(
        `UPDATE alert_deliveries SET state = 'refused', claim_token = NULL, lease_until = NULL, last_error = $3
          WHERE alert_id = $1 AND channel = $2 AND state = 'pending'`,
        [alertId, name, outcome.refused],
      );
      report.refused.push({ channel: name, reason: outcome.refused });
      return;
    }
    await this.markSent(alertId, name, leaseEnd);
    report.sent.push(name);
  }

  /**
   * Records a send. Not fenced by the token: the receiver accepted it, and recording that keeps
   * anyone from sending it again. Tried again while the lease still keeps others off (the
   * database restarting); after that a second copy may go out, and this attempt says so.
   */
  private async markSent(alertId: number, channel: ChannelName, leaseEnd: number): Promise<void> {
    for (;;) {
      try {
        await this.pool.query(
          `UPDATE alert_deliveries SET state = 'sent', sent_at = now(), claim_token = NULL, lease_until = NULL, last_error = NULL
            WHERE alert_id = $1 AND channel = $2 AND state = 'pending'`,
          [alertId, channel],
        );
        return;
      } catch (error) {
        if (performance.now() + MARK_RETRY_MS >= leaseEnd) {
          throw new Error(`the alert was sent (${channel}) but could not be recorded before its claim ran out, so it may be sent again: ${(error as Error).message}`);
        }
        await new Promise((resolve) => setTimeout(resolve, MARK_RETRY_MS));
      }
    }
  }

  private async countUnclaimed(alertId: number, channel: ChannelName, report: DeliveryReport): Promise<void> {
    const { rows } = await this.pool.query<{ state: 'pending' | 'sent' | 'refused'; held_ms: number; last_error: string | null }>(
      `SELECT state, last_error, greatest(0, ceil(extract(epoch FROM lease_until - now()) * 1000))::float8 AS held_ms
         FROM alert_deliveries WHERE alert_id = $1 AND channel = $2`,
      [alertId, channel],
    );
    const row = rows[0];
    if (!row || row.state === 'sent') report.alreadySent.push(channel);
    else if (row.state === 'refused') report.refused.push({ channel, reason: row.last_error ?? 'refused' });
    else report.held.push({ channel, forMs: row.held_ms ?? 0 });
  }
}
