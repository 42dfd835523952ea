import type { ProcessExit, WorkerProcess } from "./types.ts";

/** A child process as a WorkerProcess: `exited` never rejects, `kill` of a gone process is a no-op. */
export function workerProcess(pid: number, exited: Promise<ProcessExit>, kill: (signal: string) => void): WorkerProcess {
  return {
    pid,
    exited: exited.catch((): ProcessExit => ({ code: null, signal: null })),
    kill(signal) {
      try {
        kill(signal);
      } catch { /* already gone */ }
    },
  };
}
