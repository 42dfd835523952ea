import { connectBody, rtmpInfoJson } from "../control/events.ts";
import type { NetAddr } from "../runtime/types.ts";
import type { PublishInfo } from "./stream.ts";

/**
 * Who a session's client is: its address (the original client a PROXY header named, else the
 * socket's peer) and what its `connect` said. One value feeds the connect event, the `rtmp`
 * object of every track event, the API and the access log.
 */
export type ClientInfo = {
  connection: number;
  peer: NetAddr;
  app: string;
  flashver: string;
  swfUrl: string;
  tcUrl: string;
  pageUrl: string;
  objectEncoding: number;
};

export function newClientInfo(connection: number, peer: NetAddr): ClientInfo {
  return { connection, peer, app: "", flashver: "", swfUrl: "", tcUrl: "", pageUrl: "", objectEncoding: 0 };
}

/** `ip:port` (`[v6]:port`): the `addr` of the connect event, the API and the log context. */
export function clientAddr(c: ClientInfo): string {
  const a = c.peer;
  return a.hostname.includes(":") ? `[${a.hostname}]:${a.port}` : `${a.hostname}:${a.port}`;
}

/** The connect event body (spec §6.2). */
export function connectEventBody(c: ClientInfo): string {
  return connectBody({ app: c.app, flashver: c.flashver, swfUrl: c.swfUrl, tcUrl: c.tcUrl, pageUrl: c.pageUrl, addr: clientAddr(c), connection: c.connection });
}

/** The `"input_type":"rtmp","rtmp":{…}` fragment of a published stream's events (addr is the IP only, spec §6.3). */
export function rtmpInfoOf(c: ClientInfo, pub: PublishInfo): string {
  return rtmpInfoJson({
    app: c.app,
    flashver: c.flashver,
    swfUrl: c.swfUrl,
    tcUrl: c.tcUrl,
    pageUrl: c.pageUrl,
    addr: c.peer.hostname,
    connection: c.connection,
    name: pub.name,
    type: pub.type,
    args: pub.args,
  });
}
