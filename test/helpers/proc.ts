import { spawn, type ChildProcess } from "node:child_process";

export type ProcResult = { code: number | null; signal: string | null; stdout: string; stderr: string };

/** Runs a command to completion (bounded by `timeoutMs`, then SIGKILL). */
export function run(cmd: string, args: string[], opts: { timeoutMs?: number; cwd?: string; env?: Record<string, string> } = {}): Promise<ProcResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...(opts.env ?? {}) }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 60_000);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Starts a long-running command; `stop()` kills it and waits. */
export function start(cmd: string, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): { child: ChildProcess; output: () => string; exited: Promise<ProcResult>; stop(signal?: NodeJS.Signals): Promise<ProcResult> } {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...(opts.env ?? {}) }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const exited = new Promise<ProcResult>((resolve) => {
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.on("error", () => resolve({ code: -1, signal: null, stdout, stderr }));
  });
  return {
    child,
    output: () => stdout + stderr,
    exited,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const t = setTimeout(() => child.kill("SIGKILL"), 15_000);
      const r = await exited;
      clearTimeout(t);
      return r;
    },
  };
}

/** True when `cmd` can be run (e.g. ffmpeg installed): it starts and exits 0 with `versionFlag`. */
export async function have(cmd: string, versionFlag = cmd.startsWith("gst-") ? "--version" : "-version"): Promise<boolean> {
  try {
    const r = await run(cmd, [versionFlag], { timeoutMs: 10_000 });
    return r.code === 0;
  } catch {
    return false;
  }
}

/** Fails (never skips) when a tool the test needs is missing: `.ci/run` installs it. */
export async function requireTool(cmd: string, versionFlag?: string): Promise<void> {
  if (!(await have(cmd, versionFlag))) throw new Error(`'${cmd}' is not installed (apt-get install ${cmd.startsWith("gst-") ? "gstreamer1.0-tools" : cmd})`);
}
