/**
 * A read or write error that only says the peer went away (TCP reset, broken pipe), as each
 * runtime names it: node:net and Bun set `code`, Deno throws `Deno.errors.ConnectionReset` etc.
 */
export function isPeerGone(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (code === "ECONNRESET" || code === "EPIPE" || code === "ECONNABORTED") return true;
  return err.name === "ConnectionReset" || err.name === "BrokenPipe" || err.name === "ConnectionAborted";
}
