import type { ResumeFrom } from "../config/types.ts";
import { decodeBase64 } from "../bytes/base64.ts";
import type { UpstreamAnswer } from "./controller.ts";
import { KmpError } from "./errors.ts";
import type { UpstreamSpec } from "./upstream.ts";
import { parseKmpUrl } from "./url.ts";

const RESUME: readonly string[] = ["last_acked", "last_sent", "last_written"] satisfies ResumeFrom[];

/**
 * The upstreams of a publish answer as the track opens them (spec §6.4): a `kmp://` url,
 * a known `resume_from` (any case) and base64 `connect_data`, else the whole answer is refused
 * (`create_upstream_failed`).
 */
export function upstreamSpecs(answers: UpstreamAnswer[]): UpstreamSpec[] | KmpError {
  const specs: UpstreamSpec[] = [];
  for (const u of answers) {
    const resume = u.resume_from.toLowerCase();
    const data = u.connect_data === null ? new Uint8Array(0) : decodeBase64(u.connect_data);
    if (!parseKmpUrl(u.url) || !RESUME.includes(resume) || !data) {
      return new KmpError("KMP_ERR_BAD_UPSTREAM", `invalid upstream ${JSON.stringify(u)}`);
    }
    specs.push({ id: u.id, url: u.url, required: u.required, resumeFrom: resume as ResumeFrom, connectData: data });
  }
  return specs;
}
