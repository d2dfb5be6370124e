import { pino, type DestinationStream, type Logger } from 'pino';

const CENSOR = '[redacted]';

/** Credentials travel in these headers; pino removes them from every serialized request. */
const REDACTED_PATHS = ['req.headers.authorization', 'req.headers.cookie', 'req.headers.dpop', 'res.headers["set-cookie"]'];

/** Any logged member whose name says it holds a credential. */
const SECRET_NAME = /token|secret|client_assertion|password|authorization|cookie/i;
const MAX_DEPTH = 8;

/** The server's logger: JSON lines, credentials redacted by path and by member name. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    redact: { paths: REDACTED_PATHS, censor: CENSOR },
    serializers: { req: serializeRequest },
    formatters: { log: (object: Record<string, unknown>) => redactSecrets(object, 0) as Record<string, unknown> },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** Path segments after these carry a secret (a console invite link: `/console/enroll/<token>`). */
const SECRET_PATH_PARENTS = new Set(['enroll']);
/** Query parameters that may carry a secret: credential-like names and OAuth/OIDC `code`/`state`. */
const SECRET_QUERY_NAME = /token|secret|assertion|password|authorization|cookie|code|state|key|sig/i;

/**
 * The request as logged (fastify's fields), with secrets cut out of the URL. Plain objects
 * logged under `req` keep their members so path redaction still applies to them.
 */
export function serializeRequest(req: unknown): unknown {
  if (typeof req !== 'object' || req === null) return req;
  const r = req as { raw?: unknown; method?: string; url?: unknown; host?: string; ip?: string; socket?: { remotePort?: number } };
  if (r.raw === undefined) return typeof r.url === 'string' ? { ...r, url: redactUrl(r.url) } : req;
  return { method: r.method, url: typeof r.url === 'string' ? redactUrl(r.url) : r.url, host: r.host, remoteAddress: r.ip, remotePort: r.socket?.remotePort };
}

/** `/console/enroll/abc?code=x&status=open` → `/console/enroll/[redacted]?code=[redacted]&status=open`. */
export function redactUrl(url: string): string {
  const cut = url.indexOf('?');
  const segments = (cut === -1 ? url : url.slice(0, cut)).split('/');
  const path = segments.map((segment, i) => (i > 0 && SECRET_PATH_PARENTS.has(segments[i - 1]!) && segment !== '' ? CENSOR : segment)).join('/');
  if (cut === -1) return path;
  const query = url
    .slice(cut + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq === -1 ? pair : pair.slice(0, eq);
      return eq !== -1 && SECRET_QUERY_NAME.test(decodeName(name)) ? `${name}=${CENSOR}` : pair;
    });
  return `${path}?${query.join('&')}`;
}

function decodeName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    return name;
  }
}

/** Walks plain objects and arrays only: requests, replies and errors go to their serializers. */
export function redactSecrets(value: unknown, depth: number): unknown {
  if (depth > MAX_DEPTH || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, depth + 1));
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value)) out[key] = SECRET_NAME.test(key) ? CENSOR : redactSecrets(member, depth + 1);
  return out;
}
