import { Session } from "node:inspector";

/**
 * Node's memory-reducing collection. V8 keeps the pages of its largest heap so far (old-space pages
 * it grew for a peak, a pool of freed pages for the young generation) until a collection that
 * "reduces memory", which it starts by itself only when the process allocates almost nothing —
 * never on a busy ingest server. The in-process inspector's `HeapProfiler.collectGarbage` is such a
 * collection (V8's low-memory notification); no port is opened and the session ends at once.
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
  // the collection runs on this thread and answers before post() returns; the timer only guards that
  return new Promise<boolean>((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      try {
        session.disconnect();
      } catch { /* already gone */ }
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 10_000);
    session.post("HeapProfiler.collectGarbage", (err) => done(!err));
  });
}
