/** Version fields reported by the management APIs (same names as the reference's). */
export const VERSION = {
  version: "0.1",
  nginx_version: "1.22.1",
  rtmp_version: "1.1.4",
  compiler: "typescript (deno/bun/node) ",
  built: "rtmp-kmp 0.1.0",
} as const;
