import type { ProcessExit, WorkerProcess } from "./types.ts";
import { workerProcess } from "./worker-process.ts";

type BunChild = { pid: number; exited: Promise<number>; signalCode: string | null; kill(sig?: string): void };
type BunProcNs = {
  main: string;
  spawn(o: { cmd: string[]; env: Record<string, string | undefined>; stdin: "ignore"; stdout: "inherit"; stderr: "inherit" }): BunChild;
};
const B = (globalThis as unknown as { Bun: BunProcNs }).Bun;
type Proc = { execPath: string; execArgv: string[]; argv: string[]; env: Record<string, string | undefined> };
const proc = (globalThis as unknown as { process: Proc }).process;

/** A child of the same bun (or of the same `bun build --compile` executable) with the same arguments. */
export function bunSpawnWorker(env: Record<string, string>): WorkerProcess {
  const compiled = B.main.startsWith("/$bunfs/");
  const cmd = [proc.execPath, ...(compiled ? [] : [...proc.execArgv, B.main]), ...proc.argv.slice(2)];
  const child = B.spawn({ cmd, env: { ...proc.env, ...env }, stdin: "ignore", stdout: "inherit", stderr: "inherit" });
  const exited = child.exited.then((code): ProcessExit => ({ code: child.signalCode ? null : code, signal: child.signalCode }));
  return workerProcess(child.pid, exited, (sig) => child.kill(sig));
}
