import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { createApp, type App, type AppOverrides } from '../../src/app.ts';
import { loadConfig, type ConfigFlags } from '../../src/config/load.ts';
import type { Human, PublicJwk } from '../../src/core/model.ts';

/** A policy the config accepts; its contents do not matter to the directory. */
export const TEST_POLICIES = { default: { anyOf: [{ allOf: [{ attestor: 'oidc-token' }] }] } };

export interface TestApp {
  app: App;
  dir: string;
  /** The bootstrap human's `admin` credential. */
  adminSecret: string;
  admin: Human;
  inject(options: InjectOptions): Promise<LightMyRequestResponse>;
  /** Admin API call with the bootstrap credential (or `secret`). */
  call(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown, secret?: string): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  flags?: ConfigFlags;
  config?: Record<string, unknown>;
  overrides?: AppOverrides;
}

/** The real app on a temp data dir with the real SQLite store; logs silenced. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-test-'));
  const configFile = join(dir, 'config.json');
  // Rate limits off unless a test asks (they count real time per replica; test/rate-limits.test.ts covers them).
  writeFileSync(configFile, JSON.stringify({ attestation: { policies: TEST_POLICIES }, limits: { enabled: false }, ...options.config }));
  const flags: ConfigFlags = { data: join(dir, 'data'), port: '0', logLevel: 'silent', config: configFile, ...options.flags };
  const app = await createApp(loadConfig({ flags, env: {} }), options.overrides);
  const { secret, human } = await app.adminTokens.bootstrap('root');
  const inject = (opts: InjectOptions) => app.http.inject(opts);
  return {
    app, dir, adminSecret: secret, admin: human, inject,
    call: (method, url, body, credential = secret) =>
      inject({ method, url, headers: { authorization: `Bearer ${credential}` }, ...(body === undefined ? {} : { payload: body as never }) }),
    async close() {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function ecPublicJwk(): PublicJwk {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return publicKey.export({ format: 'jwk' }) as PublicJwk;
}

export function ed25519PublicJwk(): PublicJwk {
  const { publicKey } = generateKeyPairSync('ed25519');
  return publicKey.export({ format: 'jwk' }) as PublicJwk;
}

export function json(response: LightMyRequestResponse): Record<string, unknown> {
  return JSON.parse(response.body) as Record<string, unknown>;
}
