/**
 * RFC 9449 §4.3 (9): `htu` is compared with the request URI after RFC 3986 §6.2.2 syntax-based
 * and §6.2.3 scheme-based normalization, ignoring query and fragment. The WHATWG URL parser does
 * that normalization (case of scheme and host, default port, dot segments); percent-encoding case
 * is unified here. A trailing slash stays significant (`/items/` ≠ `/items`).
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
  return `${url.protocol}//${url.host}${url.pathname.replace(/%[0-9a-f]{2}/gi, (m) => m.toUpperCase())}`;
}

/**
 * The URI a proof must name: the configured public URL joined with the request's path. Only the
 * path of `requestUrl` is used — never its scheme or host, which come from the `Host` header and
 * are the caller's to choose (PROTOCOL §1).
 */
export function expectedHtu(publicUrl: string, requestUrl: string): string {
  // A request target such as `//other.host/x` is a path here, not a protocol-relative URL.
  const path = requestUrl.startsWith('/') ? requestUrl.split(/[?#]/, 1)[0]! : URL.canParse(requestUrl) ? new URL(requestUrl).pathname : requestUrl;
  return publicUrl.replace(/\/+$/, '') + path;
}
