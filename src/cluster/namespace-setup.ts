import { Connection } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../temporal/search-attributes.js';

/** temporal.api.enums.v1.IndexedValueType by our key types (@temporalio/proto is not our dependency; the numbers are the API's). */
const INDEXED_VALUE_TYPE: Record<SearchAttributeType, number> = {
  [SearchAttributeType.TEXT]: 1,
  [SearchAttributeType.KEYWORD]: 2,
  [SearchAttributeType.INT]: 3,
  [SearchAttributeType.DOUBLE]: 4,
  [SearchAttributeType.BOOL]: 5,
  [SearchAttributeType.DATETIME]: 6,
  [SearchAttributeType.KEYWORD_LIST]: 7,
};

type Retention = NonNullable<Parameters<Connection['workflowService']['registerNamespace']>[0]['workflowExecutionRetentionPeriod']>;
/** protobufjs encodes a plain number for an int64 field; the type asks for a Long (not our dependency). */
const retention = (days: number) => ({ seconds: days * 86_400 }) as unknown as Retention;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** gRPC status codes the setup expects on its way. */
const ALREADY_EXISTS = 6;

async function retrying<T>(what: string, deadline: number, attempt: () => Promise<T>): Promise<T> {
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      return await attempt();
    } catch (error) {
      last = error;
      await sleep(500);
    }
  }
  throw new Error(`${what} did not succeed in time: ${(last as Error)?.message ?? last}`);
}

/**
 * Registers the namespace (if missing) and our search attributes (if missing), then waits
 * until the namespace answers a visibility query that uses them: only then can runs start
 * with their search attributes. Every step retries while the services are still finding each
 * other (the frontend answers before history and matching have joined).
 */
export async function ensureNamespace(address: string, namespace: string, retentionDays: number, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const connection = await retrying('connecting to the frontend', deadline, () => Connection.connect({ address, connectTimeout: 2_000 }));
  try {
    await retrying(`registering namespace ${namespace}`, deadline, async () => {
      try {
        await connection.workflowService.registerNamespace({
          namespace,
          workflowExecutionRetentionPeriod: retention(retentionDays),
          description: 'durable-jobs (npm run cluster)',
        });
      } catch (error) {
        if ((error as { code?: number }).code !== ALREADY_EXISTS) throw error;
      }
    });
    // A new namespace reaches every frontend's cache within about 10 s; until then it is "not found".
    await retrying(`namespace ${namespace} becoming visible`, deadline, () => connection.workflowService.describeNamespace({ namespace }));
    await retrying('adding our search attributes', deadline, async () => {
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
      const missing = CUSTOM_SEARCH_ATTRIBUTES.filter((key) => !(key.name in (customAttributes ?? {})));
      if (missing.length === 0) return;
      await connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: Object.fromEntries(missing.map((key) => [key.name, INDEXED_VALUE_TYPE[key.type]])),
      });
      throw new Error(`added ${missing.map((key) => key.name).join(', ')}; checking again`);
    });
    const query = CUSTOM_SEARCH_ATTRIBUTES.map((key) => `${key.name} = 'cluster-setup-check'`).join(' AND ');
    await retrying('a visibility query over our search attributes', deadline, () =>
      connection.workflowService.listWorkflowExecutions({ namespace, pageSize: 1, query }));
  } finally {
    await connection.close();
  }
}
