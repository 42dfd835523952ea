import { encodeAmf0 } from "./amf0.ts";
import { encodeMessage } from "./chunk-encoder.ts";
import { MSG, UC } from "./protocol.ts";

/**
 * Server replies, byte for byte as the reference sends them (spec §1.5, §1.7, §1.8):
 * protocol control on csid 2, results on csid 3, onStatus on csid 5; timestamps 0.
 */

const u32 = (n: number) => Uint8Array.of((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);

const control = (type: number, payload: Uint8Array) => encodeMessage({ csid: 2, msid: 0, type, payload }, 128);

export const windowAckSize = (n: number) => control(MSG.WINDOW_ACK_SIZE, u32(n));
export const setPeerBandwidth = (n: number, limitType = 2) =>
  control(MSG.SET_PEER_BANDWIDTH, Uint8Array.of(...u32(n), limitType));
export const setChunkSize = (n: number) => control(MSG.SET_CHUNK_SIZE, u32(n));
export const ack = (n: number) => control(MSG.ACK, u32(n));

export function userControl(event: number, value: number): Uint8Array {
  return control(MSG.USER_CONTROL, Uint8Array.of((event >> 8) & 0xff, event & 0xff, ...u32(value)));
}
export const streamBegin = (streamId: number) => userControl(UC.STREAM_BEGIN, streamId);
export const pingRequest = (value: number) => userControl(UC.PING_REQUEST, value);
export const pingResponse = (value: number) => userControl(UC.PING_RESPONSE, value);

const command = (csid: number, msid: number, chunkSize: number, ...values: unknown[]) =>
  encodeMessage({ csid, msid, type: MSG.AMF0_COMMAND, payload: encodeAmf0(...values) }, chunkSize);

export function connectResult(transId: number, objectEncoding: number, chunkSize: number): Uint8Array {
  return command(3, 0, chunkSize, "_result", transId, { fmsVer: "FMS/3,0,1,123", capabilities: 31 }, {
    level: "status",
    code: "NetConnection.Connect.Success",
    description: "Connection succeeded.",
    objectEncoding,
  });
}

/** The four messages of a rejected connect, in the reference's order (spec §1.8). */
export function connectRejected(transId: number, description: string, chunkSize: number): Uint8Array[] {
  return [
    setChunkSize(chunkSize),
    streamBegin(0),
    onStatus(0, "error", "NetStream.Play.Failed", description, chunkSize),
    command(3, 0, chunkSize, "_error", transId, null, {
      level: "error",
      code: "NetConnection.Connect.Rejected",
      description: "Connection failed: Application rejected connection.",
    }),
  ];
}

export const createStreamResult = (transId: number, streamId: number, chunkSize: number) =>
  command(3, 0, chunkSize, "_result", transId, null, streamId);

export const onFCPublish = (transId: number, name: string, chunkSize: number) =>
  command(3, 0, chunkSize, "onFCPublish", transId, null, { level: "status", code: "NetStream.Publish.Start", description: name });

export const onStatus = (msid: number, level: string, code: string, description: string, chunkSize: number) =>
  command(5, msid, chunkSize, "onStatus", 0, null, { level, code, description });
