import * as v from "valibot";
import type { CtrlHeader } from "../config/types.ts";
import { CtrlError } from "./errors.ts";
import type { Logger } from "../log/logger.ts";
import { type ControlClient, retry, sleep } from "./client.ts";
import { ConnectAnswer } from "./schemas.ts";

export type ConnectConfig = {
  kmp_ctrl_timeout: number;
  kmp_ctrl_read_timeout: number;
  kmp_ctrl_buffer_size: number;
  kmp_ctrl_retries: number;
  kmp_ctrl_retry_interval: number;
  kmp_ctrl_add_header: CtrlHeader[];
};

/** A connect answer (spec §6.2): accepted when `code` is "ok" in any case; throws CtrlError. */
export function parseConnectAnswer(raw: Record<string, unknown>): { ok: true } | { ok: false; description: string } {
  const r = v.safeParse(ConnectAnswer, raw);
  if (!r.success || r.output.code === undefined) throw new CtrlError("CTRL_ERR_BAD_RESPONSE", "the answer has no string 'code'");
  if (r.output.code.toLowerCase() === "ok") return { ok: true };
  return { ok: false, description: r.output.message ?? "" };
}

/**
 * The connect callback (spec §1.8 step 5): transport/HTTP/JSON failures and a missing `code` are
 * retried; a non-ok `code` rejects at once with the answer's `message`.
 */
export async function connectCallback(o: {
  url: string;
  config: ConnectConfig;
  body: string;
  signal: AbortSignal;
  client: ControlClient;
  log: Logger;
  sleep?: typeof sleep;
}): Promise<{ ok: true } | { ok: false; description: string }> {
  const c = o.config;
  try {
    return await retry(async () => {
      const raw = await o.client.post(o.url, o.body, {
        timeoutMs: c.kmp_ctrl_timeout,
        readTimeoutMs: c.kmp_ctrl_read_timeout,
        bufferSize: c.kmp_ctrl_buffer_size,
        headers: c.kmp_ctrl_add_header,
        signal: o.signal,
      });
      return parseConnectAnswer(raw);
    }, {
      retries: c.kmp_ctrl_retries,
      intervalMs: c.kmp_ctrl_retry_interval,
      signal: o.signal,
      sleep: o.sleep,
      onFail: (err, n) => o.log.warn(`connect callback attempt ${n} failed: ${(err as Error).message}`),
    });
  } catch (err) {
    if (err instanceof CtrlError && err.code === "CTRL_ERR_ABORTED") throw err;
    return { ok: false, description: "Internal server error" };
  }
}
