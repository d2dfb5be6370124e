/**
 * In-process hub of server-sent event streams (WHATWG HTML §9.2), per human: each console page
 * opens one stream; notifications for that human go to all of them. Bounded per human (the oldest
 * stream is closed first), comment heartbeats keep proxies from timing idle streams out.
 */
export interface SseClient {
  /** Writes raw text/event-stream bytes. */
  write(chunk: string): void;
  /** Ends the stream (called when the hub drops it). */
  end(): void;
}

export interface SseHubOptions {
  maxPerHuman: number;
  heartbeatMs: number;
}

/** One event in text/event-stream framing; JSON data never contains a raw newline. */
export function formatSseEvent(event: string, data: unknown, id?: string | number): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function createSseHub(options: SseHubOptions) {
  const streams = new Map<string, Set<SseClient>>();

  const drop = (humanId: string, client: SseClient) => {
    const set = streams.get(humanId);
    if (!set?.delete(client)) return;
    if (set.size === 0) streams.delete(humanId);
  };

  const writeAll = (set: Iterable<SseClient>, chunk: string) => {
    for (const client of [...set]) {
      try {
        client.write(chunk);
      } catch {
        // A broken socket is cleaned up by its close handler; never let one stream stop the others.
      }
    }
  };

  const heartbeat = setInterval(() => {
    for (const set of streams.values()) writeAll(set, ': keep-alive\n\n');
  }, options.heartbeatMs);
  heartbeat.unref();

  return {
    /** Adds a stream; returns the function that removes it (call it when the connection closes). */
    subscribe(humanId: string, client: SseClient): () => void {
      const set = streams.get(humanId) ?? new Set<SseClient>();
      streams.set(humanId, set);
      set.add(client);
      while (set.size > options.maxPerHuman) {
        const oldest = set.values().next().value!;
        drop(humanId, oldest);
        oldest.end();
      }
      return () => drop(humanId, client);
    },
    publish(humanId: string, event: string, data: unknown, id?: string | number): number {
      const set = streams.get(humanId);
      if (set) writeAll(set, formatSseEvent(event, data, id));
      return set?.size ?? 0;
    },
    count(humanId: string): number {
      return streams.get(humanId)?.size ?? 0;
    },
    /** Ends every stream and the heartbeat (server shutdown). */
    close(): void {
      clearInterval(heartbeat);
      for (const [humanId, set] of [...streams]) for (const client of [...set]) {
        drop(humanId, client);
        client.end();
      }
    },
  };
}

export type SseHub = ReturnType<typeof createSseHub>;
