import * as v from "valibot";
import type { TrackConfig } from "../config/types.ts";
import { CtrlError } from "./errors.ts";
import type { MediaInfo } from "../media/types.ts";
import type { Logger } from "../log/logger.ts";
import { ControlClient, retry, sleep } from "./client.ts";
import { publishBody, republishBody, unpublishBody } from "./events.ts";
import { decodeBase64, parseKmpUrl, PublishAnswerSchema, RepublishAnswerSchema } from "./schemas.ts";
import type { PublishAnswer, RepublishAnswer, TrackControl, TrackIdentity, UnpublishReason, UnpublishRequest } from "./types.ts";

/** `code` must be the string "ok" (case-insensitive); checked before the rest of the answer. */
function checkCode(o: Record<string, unknown>): void {
  if (typeof o.code !== "string") throw new CtrlError("CTRL_ERR_BAD_RESPONSE", "the answer has no string 'code'");
  if (o.code.toLowerCase() !== "ok") {
    throw new CtrlError("CTRL_ERR_CODE", `code '${o.code}'${typeof o.message === "string" ? `: ${o.message}` : ""}`);
  }
}

function schemaError(issues: v.BaseIssue<unknown>[]): CtrlError {
  const i = issues[0];
  const path = i.path?.map((p) => String(p.key)).join(".") ?? "";
  return new CtrlError("CTRL_ERR_BAD_RESPONSE", `invalid answer${path ? ` at ${path}` : ""}: ${i.message}`);
}

/** A publish answer (spec §6.4) from the parsed JSON object; throws CtrlError. */
export function parsePublishAnswer(raw: Record<string, unknown>): PublishAnswer {
  checkCode(raw);
  const r = v.safeParse(PublishAnswerSchema, raw);
  if (!r.success) throw schemaError(r.issues);
  return { channel_id: r.output.channel_id, track_id: r.output.track_id, upstreams: r.output.upstreams };
}

/** A republish answer (spec §6.5): a valid kmp:// url and optional base64 connect_data; throws CtrlError. */
export function parseRepublishAnswer(raw: Record<string, unknown>): RepublishAnswer {
  checkCode(raw);
  const r = v.safeParse(RepublishAnswerSchema, raw);
  if (!r.success) throw schemaError(r.issues);
  if (!parseKmpUrl(r.output.url)) throw new CtrlError("CTRL_ERR_BAD_RESPONSE", `invalid upstream url '${r.output.url}'`);
  let data: Uint8Array | null = null;
  if (r.output.connect_data !== undefined) {
    data = decodeBase64(r.output.connect_data);
    if (!data) throw new CtrlError("CTRL_ERR_BAD_RESPONSE", "connect_data is not valid base64");
  }
  return { url: r.output.url, connect_data: data };
}

/**
 * The controller calls of one track: publish/republish with the reference's retries, unpublish once.
 * `owed`: told the unpublish this track is owed when its publish starts, and null once it was sent.
 */
export function createTrackControl(opts: {
  config: TrackConfig;
  identity: TrackIdentity;
  client?: ControlClient;
  log: Logger;
  sleep?: typeof sleep;
  owed?: (unpublish: UnpublishRequest | null) => void;
}): TrackControl {
  const { config: c, identity, log, owed } = opts;
  const client = opts.client ?? new ControlClient();
  const options = {
    timeoutMs: c.kmp_ctrl_timeout,
    readTimeoutMs: c.kmp_ctrl_read_timeout,
    bufferSize: c.kmp_ctrl_buffer_size,
    headers: c.kmp_ctrl_add_header,
  };
  const post = (url: string, body: string, signal?: AbortSignal) => client.post(url, body, { ...options, signal });
  let owing = false;
  const retries = { retries: c.kmp_ctrl_retries, intervalMs: c.kmp_ctrl_retry_interval, sleep: opts.sleep };

  return {
    canRepublish: !!c.kmp_ctrl_republish_url,

    async publish(mediaInfo: MediaInfo, signal: AbortSignal): Promise<PublishAnswer> {
      const url = c.kmp_ctrl_publish_url;
      if (!url) throw new CtrlError("CTRL_ERR_NO_URL", "no kmp_ctrl_publish_url");
      const body = publishBody(identity, mediaInfo);
      if (owed && !owing && c.kmp_ctrl_unpublish_url) {
        owing = true;
        owed({ url: c.kmp_ctrl_unpublish_url, body: unpublishBody(identity, "rtmp_disconnect"), options });
      }
      return await retry(async () => parsePublishAnswer(await post(url, body, signal)), { ...retries, signal, onFail: (err, n) => log.warn(`publish attempt ${n} failed: ${(err as Error).message}`) });
    },

    async republish(req, signal): Promise<RepublishAnswer> {
      const url = c.kmp_ctrl_republish_url;
      if (!url) throw new CtrlError("CTRL_ERR_NO_URL", "no kmp_ctrl_republish_url");
      const body = republishBody(identity, req, req.mediaInfo);
      return await retry(async () => parseRepublishAnswer(await post(url, body, signal)), { ...retries, signal, onFail: (err, n) => log.warn(`republish attempt ${n} for upstream '${req.upstreamId}' failed: ${(err as Error).message}`) });
    },

    unpublish(reason: UnpublishReason): void {
      const url = c.kmp_ctrl_unpublish_url;
      if (!url) return;
      if (owing) {
        owing = false;
        owed?.(null);
      }
      post(url, unpublishBody(identity, reason)).catch((err) => {
        if (!(err instanceof CtrlError && (err.code === "CTRL_ERR_BAD_JSON" || err.code === "CTRL_ERR_CONTENT_TYPE"))) {
          log.warn(`unpublish notification failed: ${(err as Error).message}`);
        }
      });
    },
  };
}
