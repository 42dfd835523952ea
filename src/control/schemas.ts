import * as v from "valibot";

/**
 * Controller answers (spec §6.2-6.5). The reference treats a known key of the wrong JSON type as
 * absent, so each field falls back to "absent" instead of failing the whole object.
 */
const absentIfNot = <T extends v.GenericSchema>(schema: T) => v.optional(v.fallback(v.optional(schema), undefined));
const bytes = new TextEncoder();

export const ConnectAnswer = v.object({
  code: absentIfNot(v.string()),
  message: absentIfNot(v.string()),
});

const Id32 = v.pipe(v.string(), v.check((s) => bytes.encode(s).length <= 32, "longer than 32 bytes"));

export const UpstreamSchema = v.object({
  url: v.string(),
  id: v.optional(v.fallback(v.string(), ""), ""),
  required: v.optional(v.fallback(v.boolean(), true), true),
  resume_from: v.optional(v.fallback(v.string(), "last_acked"), "last_acked"),
  connect_data: v.optional(v.fallback(v.nullable(v.string()), null), null),
});

export const PublishAnswerSchema = v.object({
  code: v.string(),
  message: absentIfNot(v.string()),
  channel_id: Id32,
  track_id: Id32,
  upstreams: v.array(UpstreamSchema),
});

export const RepublishAnswerSchema = v.object({
  code: v.string(),
  message: absentIfNot(v.string()),
  url: v.string(),
  connect_data: absentIfNot(v.string()),
});

export { parseKmpUrl } from "../kmp/url.ts";
export { decodeBase64 } from "../bytes/base64.ts";
