import { Session } from "node:inspector";

/**
 * Node's memory-reducing collection. V8 keeps the pages of its largest heap so far (old-space pages
 * it grew for a peak, a pool of freed pages for the young generation) until a collection that
 * "reduces memory", which it starts by itself only when the process allocates almost nothing —
 * never on a busy ingest server. The in-process inspector's `HeapProfiler.collectGarbage` is such a
 * collection (V8's low-memory notification); no port is opened and the session ends right after.
 * Resolves false where Node was built without the inspector.
 */
export function nodeReleaseMemory(): Promise<boolean> {
  let session: Session;
  try {
    session = new Session();
    session.connect();
  } catch {
    return Promise.resolve(false);
  }
  // The collection runs as a task on this thread and answers from inside it, holding the agent's
  // lock: ending the session from that callback would wait on that lock for ever, so it ends on
  // the next turn of the event loop. The timer only guards an answer that would never come.
  return new Promise<boolean>((resolve) => {
    let settled = false;
    const done = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      setTimeout(() => {
        try {
          session.disconnect();
        } catch { /* already gone */ }
        resolve(ok);
      }, 0);
    };
    const timer = setTimeout(() => done(false), 10_000);
    session.post("HeapProfiler.collectGarbage", (err) => done(!err));
  });
}
