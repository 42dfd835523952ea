import type { ProcessExit, WorkerProcess } from "./types.ts";
import { workerProcess } from "./worker-process.ts";

type DenoChild = { pid: number; status: Promise<{ code: number; signal: string | null }>; kill(sig: string): void };
type DenoProcNs = {
  execPath(): string;
  mainModule: string;
  args: string[];
  build: { standalone?: boolean };
  Command: new (cmd: string, o: { args: string[]; env: Record<string, string>; stdin: "null"; stdout: "inherit"; stderr: "inherit" }) => { spawn(): DenoChild };
};
const D = (globalThis as unknown as { Deno: DenoProcNs }).Deno;

/**
 * A child `deno run -A --unstable-net <entry> <args>` (SO_REUSEPORT is behind --unstable-net);
 * an executable built by `deno compile --unstable-net` runs itself with the same arguments.
 */
export function denoSpawnWorker(env: Record<string, string>): WorkerProcess {
  const args = D.build.standalone ? [...D.args] : ["run", "-A", "--unstable-net", D.mainModule, ...D.args];
  const child = new D.Command(D.execPath(), { args, env, stdin: "null", stdout: "inherit", stderr: "inherit" }).spawn();
  const exited = child.status.then((s): ProcessExit => ({ code: s.signal ? null : s.code, signal: s.signal }));
  return workerProcess(child.pid, exited, (sig) => child.kill(sig));
}
