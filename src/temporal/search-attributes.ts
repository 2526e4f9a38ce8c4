import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes our runs carry, so "every run that touched customer 42" or
 * "runs started from the admin page" is one visibility query away. The dev server
 * registers them at start; on another cluster `npm run temporal -- operator search-attribute create` does.
 */
export const CUSTOMER_IDS = defineSearchAttributeKey('DjCustomerIds', SearchAttributeType.KEYWORD_LIST);
export const STARTED_FROM = defineSearchAttributeKey('DjStartedFrom', SearchAttributeType.KEYWORD);
export const PERIOD = defineSearchAttributeKey('DjPeriod', SearchAttributeType.KEYWORD);

export const CUSTOM_SEARCH_ATTRIBUTES = [CUSTOMER_IDS, STARTED_FROM, PERIOD];

/** Names as the temporal CLI spells their types. */
export const CLI_TYPE_NAMES: Record<string, string> = {
  [SearchAttributeType.KEYWORD_LIST]: 'KeywordList',
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.TEXT]: 'Text',
  [SearchAttributeType.INT]: 'Int',
  [SearchAttributeType.DATETIME]: 'Datetime',
  [SearchAttributeType.BOOL]: 'Bool',
  [SearchAttributeType.DOUBLE]: 'Double',
};

/** Set by Temporal on runs a schedule starts (also backfills): the time the run was scheduled for. */
export const SCHEDULED_START_TIME = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

/** Set by Temporal on runs a schedule starts: the schedule's id. Runs started otherwise have none. */
export const SCHEDULED_BY_ID = defineSearchAttributeKey('TemporalScheduledById', SearchAttributeType.KEYWORD);
