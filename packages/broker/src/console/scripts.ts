import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';

const SCRIPT_DIR = new URL('./scripts/', import.meta.url);
export const WEBAUTHN_BUNDLE = 'simplewebauthn-browser.js';

interface Script {
  body: Buffer;
  version: string;
}

/** @simplewebauthn/browser's UMD bundle (global `SimpleWebAuthnBrowser`), read from node_modules; null when not installed. */
function webauthnBundle(): Buffer | null {
  try {
    const entry = createRequire(import.meta.url).resolve('@simplewebauthn/browser');
    return readFileSync(join(dirname(entry), '..', 'dist', 'bundle', 'index.umd.min.js'));
  } catch {
    return null;
  }
}

function load(): ReadonlyMap<string, Script> {
  const scripts = new Map<string, Script>();
  const add = (name: string, body: Buffer) => scripts.set(name, { body, version: createHash('sha256').update(body).digest('base64url').slice(0, 12) });
  for (const name of readdirSync(SCRIPT_DIR).filter((n) => n.endsWith('.js'))) add(name, readFileSync(new URL(name, SCRIPT_DIR)));
  const bundle = webauthnBundle();
  if (bundle) add(WEBAUTHN_BUNDLE, bundle);
  return scripts;
}

const SCRIPTS = load();

/** `/console/scripts/<name>?v=<hash>`: cacheable for a year, since the URL changes with the content. */
export function scriptUrl(name: string): string {
  const script = SCRIPTS.get(name);
  if (!script) throw new Error(`unknown console script ${name}`);
  return `/console/scripts/${name}?v=${script.version}`;
}

/** GET /console/scripts/:file — the console's own scripts (no inline code anywhere: CSP `default-src 'self'`). */
export function registerConsoleScripts(app: FastifyInstance): void {
  app.get<{ Params: { file: string } }>('/console/scripts/:file', async (request, reply) => {
    const script = SCRIPTS.get(request.params.file);
    if (!script) return reply.code(404).type('text/plain; charset=utf-8').send('not found');
    return reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=31536000, immutable').send(script.body);
  });
}
