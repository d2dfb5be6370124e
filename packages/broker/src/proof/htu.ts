/**
 * RFC 9449 §4.3 (9): `htu` is compared with the request URI after RFC 3986 §6.2.2 syntax-based
 * and §6.2.3 scheme-based normalization, ignoring query and fragment. The WHATWG URL parser does
 * that normalization (case of scheme and host, default port, dot segments, percent-encoding case);
 * a trailing slash stays significant (`/token/` ≠ `/token`).
 */
export function normalizeHtu(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  if (url.username || url.password) return null;
  return `${url.protocol}//${url.host}${url.pathname.replace(/%[0-9a-f]{2}/g, (m) => m.toUpperCase())}`;
}
