import type { ApiLocation } from "../config/types.ts";

/** Where an API location is mounted in the Hono app: its prefix without trailing slashes ("/" for the root). */
export function mountPrefix(loc: ApiLocation): string {
  return loc.prefix.replace(/\/+$/, "") || "/";
}
