import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getRuntime } from "../../src/runtime/detect.ts";
import { Controller, type ControllerMode } from "../../src/tools/controller.ts";
import { KmpReceiver } from "../../src/tools/kmp-receiver.ts";
import { serverCommand } from "./paths.ts";
import { start } from "./proc.ts";

/**
 * A port that a program started next can listen on: one that binds now, chosen below Linux's
 * ephemeral range (32768–60999), so that no outgoing connection of another process (a receiver's
 * or a scraper's socket takes its local port from that range) holds it by the time the program
 * binds it. The range's ports were seen taken in that gap (Bun: "Is port … in use?").
 */
export async function freePort(): Promise<number> {
  const rt = await getRuntime();
  for (let i = 0; i < 50; i++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    try {
      const l = await rt.listen({ hostname: "127.0.0.1", port });
      l.close();
      return port;
    } catch { /* taken: another */ }
  }
  const l = await rt.listen({ hostname: "127.0.0.1", port: 0 });
  const p = l.addr.port;
  l.close();
  return p;
}

/**
 * Our program as a child process (the CLI on this runtime) with a controller (connect, publish,
 * unpublish; no republish URL) and an acking KMP receiver in the test. `head`: main-context
 * directives (e.g. `worker_processes 2;`); `http`: the body of an `http { server { … } }` whose
 * listen address is `apiPort`; `republish`: the controller's republish URL is configured too;
 * `cmd`: another program than this checkout's CLI (e.g. an installed package).
 */
export async function cliServer(prefix: string, opts: { head?: string; http?: string; mode?: ControllerMode; republish?: boolean; cmd?: string[] } = {}) {
  const rt = await getRuntime();
  const receiver = await new KmpReceiver({ runtime: rt }).start();
  const controller = await new Controller({ runtime: rt, kmpUrl: receiver.url, mode: opts.mode }).start();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const [rtmp, apiPort] = [await freePort(), await freePort()];
  const c = controller.url;
  writeFileSync(join(dir, "nginx.conf"), `${opts.head ?? ""}
rtmp { server { listen 127.0.0.1:${rtmp}; application live { live on;
  kmp_ctrl_connect_url ${c}/connect; kmp_ctrl_publish_url ${c}/publish; kmp_ctrl_unpublish_url ${c}/unpublish;${opts.republish ? ` kmp_ctrl_republish_url ${c}/republish;` : ""} } } }
${opts.http ? `http { server { listen 127.0.0.1:${apiPort}; ${opts.http} } }` : ""}`);
  const cmd = opts.cmd ?? serverCommand();
  const server = start(cmd[0], [...cmd.slice(1), "--config", join(dir, "nginx.conf")]);
  return {
    rt, receiver, controller, dir, rtmp, apiPort, server,
    /** Resolves once the program logged that it started (its listeners are open). */
    async ready(timeoutMs = 20_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!/rtmp-kmp \S+ started on/.test(server.output())) {
        if (Date.now() > deadline || server.child.exitCode !== null) throw new Error(`the server did not start:\n${server.output()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    /** Kills what is left and removes the folder. */
    async close(): Promise<void> {
      await server.stop("SIGKILL");
      await controller.close();
      await receiver.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
