// Helpers every job's long activities share.
import { Context } from '@temporalio/activity';

/**
 * Heartbeats while `work` runs, so a worker that dies mid-activity is noticed within the
 * heartbeat timeout instead of the (much longer) start-to-close timeout. `work` may report
 * progress as often as it likes: the latest is sent at most once a second (each heartbeat
 * crosses into the SDK's core and is encoded), and every heartbeat carries the latest,
 * because each one replaces the details a retry will see.
 */
export async function whileHeartbeating<T, D = undefined>(work: (report: (details: D) => void) => Promise<T>): Promise<T> {
  const context = Context.current();
  let latest: D | undefined;
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
