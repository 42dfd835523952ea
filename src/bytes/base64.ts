/** Strict base64 (standard alphabet, optional padding); null when invalid. */
export function decodeBase64(s: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || (s.replace(/=+$/, "").length % 4) === 1) return null;
  try {
    const bin = atob(s.length % 4 ? s + "=".repeat(4 - (s.length % 4)) : s);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}
