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
    formatters: { log: (object: Record<string, unknown>) => redactSecrets(object, 0) as Record<string, unknown> },
  };
  return destination ? pino(options, destination) : pino(options);
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
