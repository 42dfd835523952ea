import { parseNginxConf } from "../../src/config/index.ts";
import { Logger, type LogLevel } from "../../src/log/logger.ts";
import { getRuntime } from "../../src/runtime/detect.ts";
import type { Runtime } from "../../src/runtime/types.ts";
import { IngestServer } from "../../src/server/server.ts";
import { apiApp } from "../../src/api/app.ts";
import { Controller, type ControllerMode } from "../../src/tools/controller.ts";
import { KmpReceiver, type KmpReceiverOptions } from "../../src/tools/kmp-receiver.ts";

/** Everything one integration test needs: a KMP receiver, a controller and our server, all on loopback. */
export type Stack = {
  runtime: Runtime;
  receiver: KmpReceiver;
  controller: Controller;
  server: IngestServer;
  rtmpPort: number;
  rtmpUrl(path?: string): string;
  /** Base URL of the management API (both APIs mounted like the fixtures), when `api` was asked. */
  apiUrl: string;
  logs: string[];
  close(): Promise<void>;
};

export async function startStack(opts: {
  appDirectives?: string;
  /** Flags after the listen address (e.g. `proxy_protocol`). */
  listenDirectives?: string;
  serverDirectives?: string;
  mode?: ControllerMode;
  receiver?: Omit<KmpReceiverOptions, "runtime">;
  logLevel?: LogLevel;
  api?: { write: boolean };
} = {}): Promise<Stack> {
  const runtime = await getRuntime();
  const receiver = await new KmpReceiver({ runtime, ...(opts.receiver ?? {}) }).start();
  const controller = await new Controller({ runtime, kmpUrl: receiver.url, mode: opts.mode }).start();
  const c = controller.url;
  const conf = `
rtmp {
  server {
    listen 127.0.0.1:0 ${opts.listenDirectives ?? ""};
    ${opts.serverDirectives ?? ""}
    application live {
      live on;
      kmp_ctrl_connect_url ${c}/connect;
      kmp_ctrl_publish_url ${c}/publish;
      kmp_ctrl_unpublish_url ${c}/unpublish;
      kmp_ctrl_republish_url ${c}/republish;
      ${opts.appDirectives ?? ""}
    }
  }
}`;
  const config = parseNginxConf(conf, "test.conf");
  const logs: string[] = [];
  const log = new Logger({ level: opts.logLevel ?? "info", sink: (l) => logs.push(l) });
  const server = new IngestServer({ config, runtime, log });
  await server.start();
  const rtmpPort = server.addresses[0].port;
  let apiUrl = "";
  if (opts.api) {
    const app = apiApp(server, [
      { prefix: "/rtmp_kmp_api/", kind: "rtmp_kmp_api", write: opts.api.write },
      { prefix: "/kmp_out_api/", kind: "kmp_out_api", write: opts.api.write },
    ]);
    const http = await runtime.serveHttp({ hostname: "127.0.0.1", port: 0 }, (req) => app.fetch(req));
    server.httpServers.push(http);
    apiUrl = `http://127.0.0.1:${http.addr.port}`;
  }
  return {
    apiUrl,
    runtime, receiver, controller, server, rtmpPort, logs,
    rtmpUrl: (path = "live/stream1") => `rtmp://127.0.0.1:${rtmpPort}/${path}`,
    async close() {
      await server.stop(2_000).catch(() => {});
      await controller.close().catch(() => {});
      await receiver.close().catch(() => {});
    },
  };
}
