// The workflow bundle's entry point: every workflow the worker registers.
export { regenerateReports } from './regenerate-reports.js';
export { dailyReports } from './daily-reports.js';
export { purgeOldReports } from './purge-old-reports.js';
export { importOrders } from './import-orders.js';
