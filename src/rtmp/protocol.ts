/** RTMP message types (spec §1.3 table). */
export const MSG = {
  SET_CHUNK_SIZE: 1,
  ABORT: 2,
  ACK: 3,
  USER_CONTROL: 4,
  WINDOW_ACK_SIZE: 5,
  SET_PEER_BANDWIDTH: 6,
  AUDIO: 8,
  VIDEO: 9,
  AMF3_DATA: 15,
  AMF3_SHARED_OBJECT: 16,
  AMF3_COMMAND: 17,
  AMF0_DATA: 18,
  AMF0_SHARED_OBJECT: 19,
  AMF0_COMMAND: 20,
  AGGREGATE: 22,
} as const;

/** User control events. */
export const UC = {
  STREAM_BEGIN: 0,
  STREAM_EOF: 1,
  STREAM_DRY: 2,
  SET_BUFFER_LENGTH: 3,
  RECORDED: 4,
  PING_REQUEST: 6,
  PING_RESPONSE: 7,
} as const;
