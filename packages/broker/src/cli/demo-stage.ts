import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVerifier, nodeHttpAdapter, requireAction, type Verifier } from '@mandate/sdk';
import { createApp, type App } from '../app.ts';
import { startLocalIssuer, type LocalIssuer } from '../attestors/oidc-token/local-issuer.ts';
import { loadConfig } from '../config/load.ts';
import { ADMIN_TOKEN_FILE, bootstrapFirstStart } from '../first-start.ts';
import { createAdminClient, type AdminClient } from './admin-client.ts';

/** What `mandate demo` runs on: everything on loopback, in one temporary directory. */
export interface DemoStage {
  dir: string;
  app: App;
  brokerUrl: string;
  ci: LocalIssuer;
  resource: { url: string; clientSecret: string };
  /** The bootstrap admin (`admin`), as `mandate serve` creates it on first start. */
  admin: AdminClient;
  /** Stops everything that started, then deletes the directory. Safe to call twice. */
  close(): Promise<void>;
}

/** Trust sources a demo variant adds: attestor settings and policies merged into the config, stopped with the stage. */
export interface StageTrust {
  attestors: Record<string, unknown>;
  policies: Record<string, unknown>;
  close(): Promise<void>;
}

export const DEMO_POLICY = 'ci-built-agent';
export const DEMO_ACTIONS = ['issues:read', 'issues:comment'];
/** The claims the policy pins: the ids the local issuer puts in its GitHub-Actions-shaped tokens. */
const PINNED_CLAIMS = { repository_id: '731337001', runner_environment: 'github-hosted' };

/**
 * Starts, in order: a local OIDC issuer (the CI identity provider), the sample resource server,
 * and the real broker on a free loopback port whose URL is its issuer (so DPoP `htu` matches).
 * `addTrust` runs first, in the stage's directory (its files and servers are the config's trust
 * sources). Anything that started is stopped again when a later part fails.
 *
 * @example
 * const stage = await startDemoStage();
 * try { await stage.admin.get('/admin/v1/agents'); } finally { await stage.close(); }
 */
export async function startDemoStage(addTrust?: (dir: string) => Promise<StageTrust>): Promise<DemoStage> {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-demo-'));
  const stops: Array<() => Promise<void>> = [async () => rmSync(dir, { recursive: true, force: true })];
  const close = async () => {
    while (stops.length > 0) await stops.pop()!().catch(() => undefined);
  };
  try {
    const trust = addTrust ? await addTrust(dir) : { attestors: {}, policies: {}, close: async () => undefined };
    stops.push(() => trust.close());
    const ci = await startLocalIssuer();
    stops.push(() => ci.close());
    const resource = await startResourceServer();
    stops.push(() => resource.close());
    const port = await freePort();
    const brokerUrl = `http://127.0.0.1:${port}`;
    const clientSecret = randomBytes(32).toString('base64url');
    const configFile = writeConfig(dir, { ci, resourceUrl: resource.url, clientSecret, trust });
    const app = await createApp(loadConfig({ flags: { config: configFile, data: join(dir, 'data'), host: '127.0.0.1', port: String(port), issuer: brokerUrl, logLevel: 'silent' }, env: {} }));
    stops.push(() => app.close());
    await bootstrapFirstStart(app);
    await app.http.listen({ host: '127.0.0.1', port });
    resource.attach(brokerUrl, clientSecret);
    const adminToken = readFileSync(join(app.config.dataDir, ADMIN_TOKEN_FILE), 'utf8').trim();
    return { dir, app, brokerUrl, ci, resource: { url: resource.url, clientSecret }, admin: createAdminClient({ url: brokerUrl, token: adminToken }), close };
  } catch (error) {
    await close();
    throw error;
  }
}

function writeConfig(dir: string, input: { ci: LocalIssuer; resourceUrl: string; clientSecret: string; trust: StageTrust }): string {
  const config = {
    ciba: { interval: 1 },
    audiences: {
      [input.resourceUrl]: { actions: DEMO_ACTIONS, introspectionSecretSha256: createHash('sha256').update(input.clientSecret).digest('base64url') },
    },
    attestation: {
      attestors: {
        'oidc-token': { issuers: [{ issuer: input.ci.issuer, jwksUri: input.ci.jwksUri, claims: ['repository', 'repository_id', 'job_workflow_ref', 'runner_environment'] }] },
        'code-digest': {},
        ...input.trust.attestors,
      },
      policies: {
        // A CI identity bound to the challenge and the DPoP key, plus the agent's own code digest
        // (a claim, not a measurement: at most `warning`, PROTOCOL §3).
        [DEMO_POLICY]: {
          freshness: '5m',
          anyOf: [{ allOf: [{ attestor: 'oidc-token', claims: PINNED_CLAIMS }, { attestor: 'code-digest', minStatus: 'warning' }] }],
        },
        ...input.trust.policies,
      },
    },
  };
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(config, null, 2), { mode: 0o600 });
  return file;
}

interface ResourceServer {
  url: string;
  attach(brokerUrl: string, clientSecret: string): void;
  close(): Promise<void>;
}

/**
 * The sample API: `GET /issues` needs `issues:read`. It verifies with the SDK (signature, DPoP,
 * audience, task) and asks the broker's introspection endpoint every time (cache TTL 0: the
 * demo's revocation bound is immediate).
 */
async function startResourceServer(): Promise<ResourceServer> {
  let verifier: Verifier | undefined;
  const server: Server = createHttpServer(async (req, res) => {
    if (!verifier) return void res.writeHead(503).end();
    const auth = nodeHttpAdapter(verifier);
    try {
      const result = await auth.authenticate(req);
      requireAction(result, 'issues:read');
      const body = { agent: result.agentId, subject: result.subject, purpose: result.task.purpose, issues: [{ id: 42, title: 'Flaky test in CI' }] };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    } catch (error) {
      auth.reject(res, error);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    attach(brokerUrl, clientSecret) {
      verifier = createVerifier({
        issuer: brokerUrl, audience: url, jwks: `${brokerUrl}/jwks`, publicUrl: url,
        introspection: { endpoint: `${brokerUrl}/introspect`, clientId: url, clientSecret, cacheTtlSeconds: 0 },
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Like `serve --port 0`: pick a free port first, so the issuer names the real one. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer().once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
