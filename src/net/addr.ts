/** `host:port`, with an IPv6 host in brackets (`[::1]:1935`): how logs, the API and the page name an address. */
export function fmtAddr(hostname: string, port: number): string {
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}
