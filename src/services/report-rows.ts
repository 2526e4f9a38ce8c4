import type { Pool } from '../db/pool.js';

export interface ReportRow {
  customerId: number;
  reportDate: string;
  currency: string;
  orderCount: number;
  revenueCents: number;
  averageOrderCents: number | null;
  topSku: string | null;
  /** False for a day that had not ended in the customer's zone when the row was generated: "so far". */
  final: boolean;
  generatedAt: string;
  workflowId: string;
}

/** The columns a report email shows. */
export type ReportLine = Pick<ReportRow, 'customerId' | 'reportDate' | 'currency' | 'orderCount' | 'revenueCents' | 'topSku' | 'final'>;

/** Reads generated report rows: what the CLI, the email and the admin page show. */
export class ReportRows {
  constructor(private readonly pool: Pool) {}

  async forCustomers(customerIds: number[], from: string, to: string): Promise<ReportRow[]> {
    const { rows } = await this.pool.query<ReportRow>(
      `SELECT customer_id AS "customerId", report_date AS "reportDate", currency,
              order_count AS "orderCount", revenue_cents AS "revenueCents",
              average_order_cents AS "averageOrderCents", top_sku AS "topSku", final,
              to_char(generated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "generatedAt",
              workflow_id AS "workflowId"
         FROM daily_reports
        WHERE customer_id = ANY($1::bigint[]) AND report_date BETWEEN $2::date AND $3::date
        ORDER BY customer_id, report_date`,
      [customerIds, from, to],
    );
    return rows;
  }

  /** Just what an email shows, for many customers at once: fewer columns to read and parse. */
  async linesForCustomers(customerIds: number[], from: string, to: string): Promise<ReportLine[]> {
    const { rows } = await this.pool.query<ReportLine>(
      `SELECT customer_id AS "customerId", report_date AS "reportDate", currency,
              order_count AS "orderCount", revenue_cents AS "revenueCents", top_sku AS "topSku", final
         FROM daily_reports
        WHERE customer_id = ANY($1::bigint[]) AND report_date BETWEEN $2::date AND $3::date
        ORDER BY customer_id, report_date`,
      [customerIds, from, to],
    );
    return rows;
  }
}
