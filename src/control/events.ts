import { mediaInfoJson } from "../codec/media-info-json.ts";
import type { MediaInfo } from "../media/types.ts";
import { jsonString as s } from "./json.ts";
import type { TrackIdentity, UnpublishReason } from "./types.ts";

/** Control event bodies, compact JSON with the reference's key order (spec §6.2-6.6). */

export type ConnectFields = {
  app: string;
  flashver: string;
  swfUrl: string;
  tcUrl: string;
  pageUrl: string;
  /** `ip:port` (`[v6]:port`) */
  addr: string;
  connection: number;
};

export function connectBody(f: ConnectFields): string {
  return `{"event_type":"connect","input_type":"rtmp","rtmp":{"app":${s(f.app)},"flashver":${s(f.flashver)},` +
    `"swf_url":${s(f.swfUrl)},"tc_url":${s(f.tcUrl)},"page_url":${s(f.pageUrl)},"addr":${s(f.addr)},` +
    `"connection":${f.connection}}}`;
}

export type RtmpInfoFields = Omit<ConnectFields, "addr"> & { addr: string; name: string; type: string; args: string };

/** The `"input_type":"rtmp","rtmp":{…}` fragment of publish/republish/unpublish (addr is the IP only). */
export function rtmpInfoJson(f: RtmpInfoFields): string {
  return `"input_type":"rtmp","rtmp":{"app":${s(f.app)},"flashver":${s(f.flashver)},"swf_url":${s(f.swfUrl)},` +
    `"tc_url":${s(f.tcUrl)},"page_url":${s(f.pageUrl)},"addr":${s(f.addr)},"connection":${f.connection},` +
    `"name":${s(f.name)},"type":${s(f.type)},"args":${s(f.args)}}`;
}

/** A multitrack track ≥ 1 says which one it is (`multitrack_id`); track 0 is unchanged. */
export function publishBody(id: TrackIdentity, mi: MediaInfo): string {
  const mt = id.multitrackId ? `"multitrack_id":${id.multitrackId},` : "";
  return `{"event_type":"publish","input_id":${s(id.inputId)},${mt}${id.rtmpInfoJson},"media_info":${mediaInfoJson(mi)}}`;
}

export function republishBody(id: TrackIdentity, up: { upstreamId: string; channelId: string; trackId: string }, mi: MediaInfo): string {
  return `{"event_type":"republish","id":${s(up.upstreamId)},"input_id":${s(id.inputId)},"channel_id":${s(up.channelId)},` +
    `"track_id":${s(up.trackId)},${id.rtmpInfoJson},"media_info":${mediaInfoJson(mi)}}`;
}

export function unpublishBody(id: TrackIdentity, reason: UnpublishReason): string {
  return `{"event_type":"unpublish","input_id":${s(id.inputId)},"reason":${s(reason)},${id.rtmpInfoJson}}`;
}
