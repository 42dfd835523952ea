import type { AmfValue } from "../rtmp/amf0.ts";
import { parsePublish, splitNameArgs } from "../rtmp/commands.ts";
import * as out from "../rtmp/messages.ts";
import type { SessionContext } from "./context.ts";
import { SessionError } from "./errors.ts";

/**
 * `publish` (spec §1.9): records the name and args (KMP output when the application has a publish
 * URL), claims the live name — `sandbox on` prefixes it with the connection, so only a second
 * publish of one name on one connection is refused; `off` makes it unique per application — and
 * applies the application's `allow`/`deny publish` rules (first match wins).
 */
export function onPublish(s: SessionContext, msid: number, args: AmfValue[]): void {
  const stream = s.streams.get(msid);
  if (!stream) throw new SessionError("RTMP_ERR_NO_STREAM", `publish on message stream ${msid} that was not created`);
  const app = s.app;
  if (!app) throw new SessionError("RTMP_ERR_NOT_CONNECTED", "publish before connect");
  const p = parsePublish(args);
  const { name, args: qs } = splitNameArgs(p.name);
  s.lastPublishName = name;
  s.lastPublishArgs = qs;
  stream.app = app;
  stream.publishing = true;
  stream.name = name;
  if (app.kmp_ctrl_publish_url) stream.publish = { name, args: qs, type: p.type };
  s.log.info(`publish name='${name}' args='${qs}' type='${p.type}' stream=${msid}`);
  if (app.live) {
    const liveName = app.sandbox ? `${s.connection}/${name}` : name;
    if (!s.host.claimName(app, liveName, s)) {
      s.send(out.onStatus(msid, "error", "NetStream.Publish.BadName", "Already publishing", s.outChunkSize));
    } else {
      stream.live = true;
      stream.liveName = liveName;
      s.send(out.onStatus(msid, "status", "NetStream.Publish.Start", "Start publishing", s.outChunkSize));
    }
  }
  const ip = s.client.peer.hostname;
  for (const rule of app.access) {
    if (!rule.publish) continue;
    if (rule.addr === "all" || rule.addr === ip) {
      if (!rule.allow) throw new SessionError("RTMP_ERR_ACCESS", `publish denied for ${ip}`);
      break;
    }
  }
}
