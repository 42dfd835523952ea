import { connectCallback } from "../control/connect.ts";
import type { AmfValue } from "../rtmp/amf0.ts";
import { normalizeApp, parseConnect } from "../rtmp/commands.ts";
import * as out from "../rtmp/messages.ts";
import { connectEventBody } from "./client-info.ts";
import type { SessionContext } from "./context.ts";
import { SessionError } from "./errors.ts";

/**
 * `connect` (spec §1.8): the application must exist; with a connect URL the controller decides,
 * and until it answered nothing after `connect` is dispatched — the gate is closed, the queues
 * above fill and the socket stops being read (bounded in bytes; the callback in time by
 * kmp_ctrl_timeout × retries). Accepted: the reference's four replies; rejected: its rejection,
 * then the session closes.
 */
export class ConnectGate {
  private readonly s: SessionContext;
  private pending = false;
  private gate: Promise<void> | null = null;
  private openGate: (() => void) | null = null;

  constructor(s: SessionContext) {
    this.s = s;
  }

  /** While the connect callback is pending: resolves once it settled. Null when open. */
  get closed(): Promise<void> | null {
    return this.gate;
  }

  onConnect(transId: number, args: AmfValue[]): void {
    const s = this.s;
    if (this.pending) throw new SessionError("RTMP_ERR_DUPLICATE_CONNECT", "second connect while the first is pending");
    if (s.connected) throw new SessionError("RTMP_ERR_DUPLICATE_CONNECT", "duplicate connect");
    const c = parseConnect(args);
    const appName = normalizeApp(c.app);
    const app = s.server.applications.find((a) => a.name === appName);
    if (!app) throw new SessionError("RTMP_ERR_UNKNOWN_APP", `application '${appName}' not found`);
    s.app = app;
    Object.assign(s.client, { app: appName, flashver: c.flashVer, swfUrl: c.swfUrl, tcUrl: c.tcUrl, pageUrl: c.pageUrl, objectEncoding: c.objectEncoding });
    s.host.attach(s);
    if (!app.kmp_ctrl_connect_url) {
      this.accept(transId);
      return;
    }
    this.pending = true;
    this.gate = new Promise((resolve) => (this.openGate = resolve));
    connectCallback({
      url: app.kmp_ctrl_connect_url,
      config: app,
      body: connectEventBody(s.client),
      signal: s.signal,
      client: s.host.control,
      log: s.log,
    }).then((res) => {
      this.settle();
      if (!s.open) return;
      if (res.ok) this.accept(transId);
      else this.reject(transId, res.description);
    }, (err) => {
      this.settle();
      if (s.open) s.fail(err);
    });
  }

  /** The callback settled (or the session ended): the waiting pump resumes after this turn, once accept/reject ran. */
  settle(): void {
    this.pending = false;
    this.gate = null;
    const open = this.openGate;
    this.openGate = null;
    if (open) queueMicrotask(open);
  }

  private accept(transId: number): void {
    const s = this.s;
    if (s.connected) throw new SessionError("RTMP_ERR_DUPLICATE_CONNECT", "duplicate connect");
    s.connected = true;
    s.send(out.windowAckSize(s.server.ack_window));
    s.send(out.setPeerBandwidth(s.server.ack_window, 2));
    s.send(out.setChunkSize(s.server.chunk_size));
    s.outChunkSize = s.server.chunk_size;
    s.send(out.connectResult(transId, s.client.objectEncoding, s.outChunkSize));
    s.log.info(`connect app='${s.client.app}' tc_url='${s.client.tcUrl}' flashver='${s.client.flashver}'`);
  }

  private reject(transId: number, description: string): void {
    const s = this.s;
    s.log.info(`connect rejected by the controller: '${description}'`);
    s.outChunkSize = s.server.chunk_size;
    for (const b of out.connectRejected(transId, description, s.server.chunk_size)) s.send(b);
    // The reference leaves the socket open (idle timer); we stop reading now and close once the
    // rejection is written (shutdown waits for the write chain).
    s.shutdown({ reason: "rtmp_disconnect", message: `connect rejected: ${description}`, code: "RTMP_CONNECT_REJECTED", peer: true });
  }
}
