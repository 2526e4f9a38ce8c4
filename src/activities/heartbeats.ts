// Helpers every job's long activities share.
import { Context } from '@temporalio/activity';

/**
 * Heartbeats while `work` runs, so a worker that dies mid-activity is noticed within the
 * heartbeat timeout instead of the (much longer) start-to-close timeout. `work` may report
 * progress as often as it likes: the latest is sent at most once a second (each heartbeat
 * crosses into the SDK's core and is encoded), and every heartbeat carries the latest,
 * because each one replaces the details a retry will see. A retry's `work` must report
 * progress that includes what it resumed (cumulative), as the details it starts from do.
 */
export async function whileHeartbeating<T, D = undefined>(work: (report: (details: D) => void) => Promise<T>): Promise<T> {
  const context = Context.current();
  // A local activity cannot heartbeat (the SDK core warns at each try, and a retry gets no
  // details): it runs inside its workflow task, and its timeout and cancellation reach it directly.
  if (context.info.isLocal) return work(() => undefined);
  // Until this attempt reports progress of its own, its heartbeats carry the previous
  // attempt's: each heartbeat replaces the details, and an attempt that fails before its first
  // report would otherwise leave the next one nothing to resume from.
  let latest = context.info.heartbeatDetails as D | undefined;
  let sentAt = 0;
  const send = () => {
    sentAt = Date.now();
    context.heartbeat(latest);
  };
  send();
  const timer = setInterval(send, 2_000);
  try {
    return await work((details) => {
      latest = details;
      if (Date.now() - sentAt >= 1_000) send();
    });
  } catch (error) {
    send(); // the progress of this attempt, for the retry to resume from
    throw error;
  } finally {
    clearInterval(timer);
  }
}
