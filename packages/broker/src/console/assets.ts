import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

const ASSET_DIR = new URL('./assets/', import.meta.url);
const TYPES: Record<string, string> = {
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
};

interface Asset {
  body: Buffer;
  type: string;
  version: string;
}

/** Loaded once at start: the console has a handful of small files and no build step. */
const ASSETS: ReadonlyMap<string, Asset> = new Map(
  readdirSync(ASSET_DIR)
    .filter((name) => TYPES[extension(name)] !== undefined)
    .map((name) => {
      const body = readFileSync(new URL(name, ASSET_DIR));
      return [name, { body, type: TYPES[extension(name)]!, version: createHash('sha256').update(body).digest('base64url').slice(0, 12) }];
    }),
);

function extension(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1);
}

/** The URL of an asset with its content hash, so it can be cached for a year and still change on upgrade. */
export function assetUrl(name: string): string {
  const asset = ASSETS.get(name);
  if (!asset) throw new Error(`unknown console asset ${name}`);
  return `/console/assets/${name}?v=${asset.version}`;
}

/** GET /console/assets/:file — long-lived, immutable, typed, `nosniff` (the URL carries the version). */
export function registerConsoleAssets(app: FastifyInstance): void {
  app.get<{ Params: { file: string } }>('/console/assets/:file', async (request, reply) => {
    const asset = ASSETS.get(request.params.file);
    if (!asset) return reply.code(404).type('text/plain; charset=utf-8').send('not found');
    return reply
      .header('content-type', asset.type)
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('x-content-type-options', 'nosniff')
      .header('cross-origin-resource-policy', 'same-origin')
      .send(asset.body);
  });
}
