import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ERROR_CATALOGUE } from '../core/errors.ts';
import type { Notifier } from '../services/notifications.ts';
import type { SseHub } from './sse-hub.ts';
import { formatSseEvent } from './sse-hub.ts';

/** Who is signed in to the console on this request (the console-auth session), or null. */
export type SessionHuman = (request: FastifyRequest) => Promise<{ id: string } | null>;

export interface EventsRouteDeps {
  hub: SseHub;
  notifier: Pick<Notifier, 'unreadCount'>;
}

/** EventSource reconnects after this long when a stream drops (WHATWG HTML §9.2.6 `retry`). */
const RETRY_MS = 5_000;

/**
 * `GET /console/events`: the signed-in human's live notifications as server-sent events. The first
 * event is the unread count, then one `notification` per new one and `unread` when it changes.
 * Same origin and the console's SameSite=Strict session cookie, so no CORS and no token in the URL;
 * the session is checked again at every heartbeat and the stream ends once it is gone.
 */
export function registerEventsRoute(app: FastifyInstance, deps: EventsRouteDeps, getSessionHuman: SessionHuman): void {
  app.get('/console/events', async (request, reply) => {
    const human = await getSessionHuman(request);
    if (!human) {
      const { status, title } = ERROR_CATALOGUE.ERR_CONSOLE_UNAUTHENTICATED;
      return reply.code(status).header('content-type', 'application/problem+json').header('cache-control', 'no-store')
        .send({ type: 'about:blank', title, status, code: 'ERR_CONSOLE_UNAUTHENTICATED' });
    }
    const unread = await deps.notifier.unreadCount(human.id);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff',
      'x-accel-buffering': 'no', connection: 'keep-alive', 'x-request-id': request.id,
    });
    res.write(`retry: ${RETRY_MS}\n` + formatSseEvent('unread', { unread }));
    // The session is re-checked on each heartbeat: a stream outlives no sign-out, expiry or disable by more than one interval.
    const recheck = async () => {
      const still = await getSessionHuman(request).catch(() => null);
      if (still?.id !== human.id) {
        unsubscribe();
        res.end();
      }
    };
    const unsubscribe = deps.hub.subscribe(human.id, {
      write: (chunk) => {
        res.write(chunk);
        if (chunk.startsWith(':')) void recheck();
      },
      end: () => res.end(),
    });
    request.raw.once('close', unsubscribe);
    res.once('close', unsubscribe);
  });
}
