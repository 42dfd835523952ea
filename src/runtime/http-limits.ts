/** Limits every HTTP server of the program applies to what a client sends (any runtime). */
export const HTTP_LIMITS = {
  /** Request bodies beyond this get 413 (the API's bodies are small JSON objects). */
  maxBodyBytes: 64 * 1024,
  /** The whole body must arrive within this, else 408. */
  bodyTimeoutMs: 10_000,
  /** Request line and headers must arrive within this (node:http `headersTimeout`). */
  headersTimeoutMs: 10_000,
} as const;

const json = (status: number, message: string) =>
  new Response(JSON.stringify({ code: status, message }), { status, headers: { "content-type": "application/json", connection: "close" } });

export const tooLarge = (max: number) => json(413, `request body exceeds the limit of ${max} bytes`);

/**
 * The request with its body read into memory within the limits, or the error response: 413 as
 * soon as the declared or received length passes `maxBodyBytes` (nothing more is read), 408 when
 * the body does not arrive within `bodyTimeoutMs`.
 */
export async function boundedRequest(req: Request, max = HTTP_LIMITS.maxBodyBytes, timeoutMs = HTTP_LIMITS.bodyTimeoutMs): Promise<Request | Response> {
  if (!req.body) return req;
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (declared > max) {
    await req.body.cancel().catch(() => {});
    return tooLarge(max);
  }
  const reader = req.body.getReader();
  const parts: Uint8Array[] = [];
  let n = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), timeoutMs)));
  try {
    for (;;) {
      const r = await Promise.race([reader.read(), timeout]);
      if (r === "timeout") {
        reader.cancel().catch(() => {});
        return json(408, `request body not received within ${timeoutMs} ms`);
      }
      if (r.done) break;
      n += r.value.byteLength;
      if (n > max) {
        reader.cancel().catch(() => {});
        return tooLarge(max);
      }
      parts.push(r.value);
    }
  } catch {
    return json(400, "request body could not be read");
  } finally {
    clearTimeout(timer);
  }
  const body = new Uint8Array(n);
  let o = 0;
  for (const p of parts) body.set(p, o), (o += p.byteLength);
  return new Request(req.url, { method: req.method, headers: req.headers, body });
}
