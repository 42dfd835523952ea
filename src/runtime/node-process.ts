import cluster from "node:cluster";
import { availableParallelism } from "node:os";
import type { ProcessExit, WorkerProcess } from "./types.ts";
import { workerProcess } from "./worker-process.ts";

/**
 * A worker of node:cluster: the same entry and arguments (tsx's loader comes along in execArgv),
 * and every `listen` of the worker shares the primary's socket — round-robin by the primary
 * (Node's default on Linux) or accepted by the kernel when NODE_CLUSTER_SCHED_POLICY=none.
 * A single executable's workers get no execArgv on their command line: the executable has its
 * Node options built in, and on its command line they would be the program's arguments.
 *
 * A worker gets `MALLOC_ARENA_MAX=1` unless the environment names a value: glibc gives each
 * thread that allocates its own arena, and V8's compiler threads leave theirs fragmented, so at
 * 300 publishers a process held 10–25 MB more with the default (`bench/RESULTS.md`, session 8).
 */
export function nodeSpawnWorker(env: Record<string, string>): WorkerProcess {
  // node:sea through getBuiltinModule: a static import would break Bun's executable, which bundles this file
  if (process.getBuiltinModule("node:sea")?.isSea()) cluster.setupPrimary({ execArgv: [] });
  const w = cluster.fork({ MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? "1", ...env });
  const exited = new Promise<ProcessExit>((resolve) => w.once("exit", (code: number | null, signal: string | null) => resolve({ code: signal ? null : code, signal: signal || null })));
  return workerProcess(w.process.pid ?? 0, exited, (sig) => w.process.kill(sig as NodeJS.Signals));
}

export const nodeCpuCount = (): number => availableParallelism();

/**
 * The program's arguments. A node:cluster worker of a single executable (SEA) is started as
 * `<exe> <exe> <args>` (cluster passes the entry, which is the executable itself): skip it.
 */
export function nodeArgs(argv: string[]): string[] {
  const args = argv.slice(2);
  return cluster.isWorker && args[0] === argv[1] ? args.slice(1) : args;
}


/**
 * node:cluster makes a worker exit at once when its primary's IPC channel closes; ours drain
 * their tracks first (the worker notices the new parent pid and stops), so that listener goes.
 */
export function keepWorkerOnDisconnect(): void {
  if (!cluster.isWorker) return;
  const proc = (globalThis as unknown as { process: { removeAllListeners(e: string): void; on(e: string, f: () => void): void } }).process;
  proc.removeAllListeners("disconnect");
  proc.on("disconnect", () => {});
}
