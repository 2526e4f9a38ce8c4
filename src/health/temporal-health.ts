import { isGrpcServiceError, type Client } from '@temporalio/client';
// The SDK's own mapping from its search attribute types to the server's IndexedValueType numbers.
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes.js';
import { CLI_TYPE_NAMES, CUSTOM_SEARCH_ATTRIBUTES } from '../temporal/search-attributes.js';
import { errorText, type CheckResult } from './check-result.js';
import { temporalWithin } from './temporal-call.js';

/** gRPC status NOT_FOUND (@grpc/grpc-js is not our dependency). */
const GRPC_NOT_FOUND = 5;

/** The Temporal namespace to check, and how to get a client for it. */
export interface TemporalTarget {
  address: string;
  namespace: string;
  /** A client for the checks; `close` ends what was opened for them (nothing, for a client lent by its owner). */
  connect(): Promise<{ client: Client; close(): Promise<void> }>;
}

/** The server answers and knows the namespace (DescribeNamespace). */
export async function checkNamespace(client: Client, target: TemporalTarget, timeoutMs: number, fix: string): Promise<CheckResult> {
  const part = 'Temporal';
  try {
    await temporalWithin(client, timeoutMs, `Temporal at ${target.address}`, () =>
      client.workflowService.describeNamespace({ namespace: target.namespace }));
    return { part, status: 'ok', detail: `${target.address}, namespace ${target.namespace}` };
  } catch (error) {
    if (isGrpcServiceError(error) && error.code === GRPC_NOT_FOUND) {
      return {
        part, status: 'fail',
        detail: `${target.address} has no namespace '${target.namespace}': create it (npm run temporal -- operator namespace create --namespace ${target.namespace}) or set TEMPORAL_NAMESPACE`,
      };
    }
    return { part, status: 'fail', detail: `${target.address} did not answer (${errorText(error)}); ${fix}` };
  }
}

/** Every custom search attribute our runs carry (src/temporal/search-attributes.ts) is registered, with its type. */
export async function checkSearchAttributes(client: Client, namespace: string, timeoutMs: number): Promise<CheckResult> {
  const part = 'search attributes';
  let registered: Record<string, number>;
  try {
    const response = await temporalWithin(client, timeoutMs, 'Temporal', () =>
      client.connection.operatorService.listSearchAttributes({ namespace }));
    registered = response.customAttributes as Record<string, number>;
  } catch (error) {
    return { part, status: 'fail', detail: `cannot list the search attributes of namespace ${namespace} (${errorText(error)})` };
  }
  const missing = CUSTOM_SEARCH_ATTRIBUTES.filter((key) => registered[key.name] === undefined);
  const mistyped = CUSTOM_SEARCH_ATTRIBUTES.filter((key) => registered[key.name] !== undefined && registered[key.name] !== encodeSearchAttributeIndexedValueType(key.type));
  const names = CUSTOM_SEARCH_ATTRIBUTES.map((key) => key.name).join(', ');
  if (missing.length === 0 && mistyped.length === 0) return { part, status: 'ok', detail: `${names} registered in namespace ${namespace}` };
  const problems = [
    ...(missing.length > 0 ? [`missing: ${missing.map((key) => key.name).join(', ')}`] : []),
    ...(mistyped.length > 0 ? [`of another type than ${mistyped.map((key) => `${key.name} (${CLI_TYPE_NAMES[key.type]})`).join(', ')}`] : []),
  ];
  const create = missing.map((key) => `--name ${key.name} --type ${CLI_TYPE_NAMES[key.type]}`).join(' ');
  return {
    part, status: 'fail',
    detail: `namespace ${namespace}: ${problems.join('; ')}; runs cannot start without them${missing.length > 0 ? ` (create them: npm run temporal -- operator search-attribute create --namespace ${namespace} ${create})` : ''}`,
  };
}
