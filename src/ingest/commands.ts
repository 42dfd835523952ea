import type { RtmpMessage } from "../rtmp/chunk-decoder.ts";
import { decodeCommand, splitNameArgs } from "../rtmp/commands.ts";
import * as out from "../rtmp/messages.ts";
import type { ConnectGate } from "./connect-gate.ts";
import type { SessionContext } from "./context.ts";
import { SessionError } from "./errors.ts";
import { onPublish } from "./publish-access.ts";
import { RtmpStream } from "./stream.ts";

/** Commands that are part of connecting and publishing, not what the access log's `$command` names. */
const PREAMBLE_COMMANDS = new Set(["connect", "createstream", "releasestream", "fcpublish"]);

/**
 * AMF0/AMF3 command messages (spec §1.6-1.9, §9): connect (through the gate), createStream,
 * FCPublish, publish, deleteStream / closeStream, metadata sent as a command; play is refused;
 * releaseStream, FCUnpublish, getStreamLength, _checkbw and unknown commands get no reply.
 */
export function onCommand(s: SessionContext, gate: ConnectGate, msg: RtmpMessage): void {
  const cmd = decodeCommand(msg);
  const name = cmd.name.toLowerCase();
  if (!s.command && !PREAMBLE_COMMANDS.has(name)) s.command = cmd.name;
  switch (name) {
    case "connect":
      gate.onConnect(cmd.transId, cmd.args);
      return;
    case "createstream":
      createStream(s, cmd.transId);
      return;
    case "fcpublish": {
      const streamName = typeof cmd.args[1] === "string" ? cmd.args[1] : "";
      s.send(out.onFCPublish(cmd.transId, streamName, s.outChunkSize));
      return;
    }
    case "publish":
      onPublish(s, msg.msid, cmd.args);
      return;
    case "deletestream": {
      const arg = cmd.args[1];
      // GStreamer's rtmp2sink names the stream (an AMF string) instead of giving its id
      const id = typeof arg === "number" ? arg : typeof arg === "string" ? streamIdByName(s, arg) : 0;
      closeStream(s, id, true);
      return;
    }
    case "closestream":
      closeStream(s, msg.msid, false);
      return;
    case "play":
    case "play2":
      throw new SessionError("RTMP_ERR_PLAY", `'${cmd.name}' refused: this server only accepts publishers`);
    case "@setdataframe":
    case "onmetadata":
      onData(s, msg);
      return;
    default:
      return;
  }
}

/** `@setDataFrame` / `onMetaData` (spec §2.4): every track's codec state of the stream. */
export function onData(s: SessionContext, msg: RtmpMessage): void {
  let cmd;
  try {
    cmd = decodeCommand(msg);
  } catch (err) {
    s.log.warn(`metadata ignored: ${(err as Error).message}`);
    return;
  }
  if (cmd.name !== "@setDataFrame" && cmd.name !== "onMetaData") return;
  const stream = s.streams.get(msg.msid);
  if (!stream) throw new SessionError("RTMP_ERR_NO_STREAM", `metadata on message stream ${msg.msid} that was not created`);
  stream.codecs.onMetadata(cmd.all);
}

function createStream(s: SessionContext, transId: number): void {
  let id = 1;
  while (s.streams.has(id)) id++;
  if (id >= s.server.max_streams) {
    throw new SessionError("RTMP_ERR_TOO_MANY_STREAMS", `no free message stream id below max_streams ${s.server.max_streams}`);
  }
  s.streams.set(id, new RtmpStream(id, s.host.clock.nowMs()));
  s.send(out.createStreamResult(transId, id, s.outChunkSize));
}

/** deleteStream / closeStream (spec §9): the stream's tracks end with `rtmp_close`. */
function closeStream(s: SessionContext, id: number, free: boolean): void {
  const stream = s.streams.get(id);
  if (!stream) return;
  s.endStream(stream, "rtmp_close");
  if (stream.publishing) {
    s.send(out.onStatus(id, "status", "NetStream.Unpublish.Success", "Stop publishing", s.outChunkSize));
    stream.publishing = false;
  }
  if (free) s.streams.delete(id);
}

/** The publishing stream of that name (with or without its `?args`), else the only publishing one. */
function streamIdByName(s: SessionContext, name: string): number {
  const bare = splitNameArgs(name).name;
  const publishing = [...s.streams.values()].filter((st) => st.publishing);
  const named = publishing.find((st) => st.name === bare);
  if (named) return named.id;
  return publishing.length === 1 ? publishing[0].id : 0;
}
