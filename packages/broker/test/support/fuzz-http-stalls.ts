import assert from 'node:assert/strict';
import { connect } from 'node:net';
import fc from 'fast-check';
import { applyMutation, assertStillServing, build, TEMPLATES, type HttpFuzzContext } from './fuzz-http.ts';
import { clientErrorResponse } from '../../src/http/client-error.ts';
import { rawText } from './fuzz-http-wire.ts';

/** Short limits for the socket fuzz fixture, so stalled clients are cut off well inside the 5 s hang bound. */
export const SHORT_TIMEOUTS = { server: { headersTimeout: '1s', requestTimeout: '2s' } };

export interface StallTally {
  stalled: number;
  timedOut408: number;
  closed: number;
  slowestMs: number;
}

/**
 * Slow clients: valid requests cut at a random byte and then left hanging (the socket stays open,
 * nothing more is sent), all at once. Each must be answered 408 (or closed) by the server's
 * header / request deadlines within the hang bound; the server then still mints.
 */
export async function fuzzStalls(ctx: HttpFuzzContext, count: number, seed: number): Promise<StallTally> {
  const cuts = fc.sample(fc.record({ template: fc.constantFrom(...TEMPLATES.filter((t) => t !== 'admin-list')), cut: fc.double({ min: 0.05, max: 0.98, noNaN: true }) }), { seed, numRuns: count });
  const url = new URL(ctx.fx.issuer);
  const tally: StallTally = { stalled: 0, timedOut408: 0, closed: 0, slowestMs: 0 };
  await Promise.all(cuts.map(async ({ template, cut }) => {
    const { request, body } = applyMutation(await build(ctx, template, { kind: 'none' }), { kind: 'none' });
    const bytes = rawText(ctx.fx.issuer, request, body);
    const started = Date.now();
    const received = await new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket = connect({ host: url.hostname, port: Number(url.port) });
      socket.setTimeout(4_900, () => {
        socket.destroy();
        reject(new Error(`a client stalled after ${Math.floor(bytes.length * cut)} of ${bytes.length} bytes was neither answered nor closed within 4.9 s`));
      });
      socket.on('connect', () => socket.write(bytes.subarray(0, Math.floor(bytes.length * cut))));
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    });
    tally.stalled += 1;
    tally.slowestMs = Math.max(tally.slowestMs, Date.now() - started);
    if (received === '') tally.closed += 1;
    else {
      // The whole answer, byte for byte: status, RFC 6749 body, no-store, close (src/http/client-error.ts).
      assert.equal(received, clientErrorResponse(408), received.slice(0, 300));
      tally.timedOut408 += 1;
    }
  }));
  console.log(`fuzz http stalls: ${JSON.stringify(tally)}`);
  await assertStillServing(ctx);
  return tally;
}

