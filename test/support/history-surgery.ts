/**
 * Edits a recorded history (in its JSON form) the way a different worker timing would have
 * written it, to replay shapes that are rare live but legal.
 */
type JsonEvent = Record<string, unknown> & { eventId: string; eventType: string };
export interface JsonHistory { events: JsonEvent[] }

const type = (event: JsonEvent) => event.eventType.replace(/^EVENT_TYPE_/, '').replaceAll('_', '').toLowerCase();

/**
 * Ends the workflow task whose commands include event `afterEventId` right after that event:
 * the commands after it move into a new task (scheduled, started, completed), as when a
 * worker completes a task with a local activity's marker and runs the code after it in the next.
 */
export function splitTaskAfter(history: JsonHistory, afterEventId: number): JsonHistory {
  const events: JsonEvent[] = structuredClone(history.events);
  const at = events.findIndex((event) => Number(event.eventId) === afterEventId);
  if (at < 0) throw new Error(`no event ${afterEventId}`);
  let completedIndex = at;
  while (completedIndex >= 0 && type(events[completedIndex]!) !== 'workflowtaskcompleted') completedIndex--;
  const [scheduled, started, completed] = events.slice(completedIndex - 2, completedIndex + 1).map((event) => structuredClone(event));
  if (!scheduled || !started || !completed || type(scheduled) !== 'workflowtaskscheduled') throw new Error('no workflow task before the event');
  const oldCompletedId = Number(completed.eventId);
  const shift = (id: number) => (id > afterEventId ? id + 3 : id);
  const renumber = (value: unknown, key?: string): unknown => {
    if (Array.isArray(value)) return value.map((item) => renumber(item));
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renumber(v, k)]));
    }
    if (key && /EventId$|^eventId$/.test(key) && (typeof value === 'string' || typeof value === 'number')) return String(shift(Number(value)));
    return value;
  };
  const shifted = events.map((event) => renumber(event) as JsonEvent);
  // The commands after the split now belong to the new task.
  for (let i = at + 1; i < shifted.length; i++) {
    const attributes = Object.values(shifted[i]!).find((v): v is Record<string, unknown> => !!v && typeof v === 'object' && 'workflowTaskCompletedEventId' in v);
    if (!attributes) {
      if (type(shifted[i]!) === 'workflowtaskscheduled') break;
      continue;
    }
    if (Number(attributes.workflowTaskCompletedEventId) !== oldCompletedId) break;
    attributes.workflowTaskCompletedEventId = String(afterEventId + 3);
  }
  const id = (n: number) => String(n);
  const attributesOf = (event: JsonEvent) => Object.keys(event).find((k) => k.endsWith('EventAttributes'))!;
  scheduled.eventId = id(afterEventId + 1);
  started.eventId = id(afterEventId + 2);
  (started[attributesOf(started)] as Record<string, unknown>).scheduledEventId = id(afterEventId + 1);
  completed.eventId = id(afterEventId + 3);
  Object.assign(completed[attributesOf(completed)] as Record<string, unknown>, { scheduledEventId: id(afterEventId + 1), startedEventId: id(afterEventId + 2) });
  shifted.splice(at + 1, 0, scheduled, started, completed);
  return { ...history, events: shifted };
}

/** The id of the workflow task completion that recorded event `eventId` (0 before the first). */
export function taskOf(history: JsonHistory, eventId: number): number {
  let task = 0;
  for (const event of history.events) {
    if (Number(event.eventId) === eventId) return task;
    if (type(event) === 'workflowtaskcompleted') task = Number(event.eventId);
  }
  throw new Error(`no event ${eventId}`);
}

export function eventsOfType(history: JsonHistory, name: string): JsonEvent[] {
  return history.events.filter((event) => type(event) === name.toLowerCase());
}
