/** A parsed `Content-Type` (RFC 9110 §8.3.1): lower-cased essence and parameters. */
export interface MediaType {
  essence: string;
  params: Record<string, string>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Null when the header is absent or not a media type. */
export function parseMediaType(header: string | undefined): MediaType | null {
  if (header === undefined) return null;
  const [essence = '', ...rest] = header.split(';');
  const [type, subtype, extra] = essence.trim().toLowerCase().split('/');
  if (!type || !subtype || extra !== undefined || !TOKEN.test(type) || !TOKEN.test(subtype)) return null;
  const params: Record<string, string> = {};
  for (const part of rest) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim().toLowerCase();
    params[name] = part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return { essence: `${type}/${subtype}`, params };
}

/** RFC 8259 §8.1 and the form encoding are UTF-8; another declared charset is refused, not guessed. */
export function hasUtf8Charset(media: MediaType): boolean {
  const charset = media.params.charset;
  return charset === undefined || charset.toLowerCase() === 'utf-8' || charset.toLowerCase() === 'utf8';
}
