import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { createClusterSigner, type ClusterSigner } from './cluster-signer.ts';

/**
 * Test support: a Kubernetes API server on 127.0.0.1 as far as this attestor sees one. It serves
 * the issuer discovery document and JWKS (as `/.well-known/openid-configuration` and
 * `/openid/v1/jwks`) and answers TokenReviews as kube-apiserver does: the caller's bearer token
 * is checked, the reviewed token verified, audiences intersected, bound pods looked up.
 */
export interface LocalCluster extends ClusterSigner {
  url: string;
  jwksUri: string;
  /** The bearer token the broker must present for TokenReviews. */
  reviewerToken: string;
  fetches: { discovery: number; jwks: number; reviews: number };
  /** Every request is answered 500. */
  failing: boolean;
  /** Reviews omit status.audiences, as an audience-unaware authenticator does. */
  audienceUnaware: boolean;
  /** Reviews name this user instead of the token's service account. */
  impersonate: string | undefined;
  /** Pods deleted since their token was issued: their tokens no longer authenticate. */
  deletedPods: Set<string>;
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Starts the API server; `tls` (PEM key and certificate) serves https, as a real one does.
 *
 * @example
 * const cluster = await startLocalCluster(() => now);
 * const config = configSchema.parse({ issuer: cluster.issuer, tokenReview: { url: cluster.url, bearerTokenFile } });
 */
export async function startLocalCluster(clock: () => number = Date.now, tls?: { key: string; cert: string }): Promise<LocalCluster> {
  let handler: Handler = (_req, res) => res.writeHead(503).end();
  const server: Server = tls ? createHttpsServer(tls, (req, res) => handler(req, res)) : createHttpServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const signer = await createClusterSigner(url, clock);
  const cluster: LocalCluster = {
    ...signer,
    url,
    jwksUri: `${url}/openid/v1/jwks`,
    reviewerToken: randomBytes(32).toString('base64url'),
    fetches: { discovery: 0, jwks: 0, reviews: 0 },
    failing: false,
    audienceUnaware: false,
    impersonate: undefined,
    deletedPods: new Set(),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
  handler = route(cluster, clock);
  return cluster;
}

function route(cluster: LocalCluster, clock: () => number): Handler {
  return (req, res) => {
    const send = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (cluster.failing) return send(500, status(500, 'InternalError'));
    if (req.method === 'GET' && req.url === '/.well-known/openid-configuration') {
      cluster.fetches.discovery += 1;
      return send(200, { issuer: cluster.issuer, jwks_uri: cluster.jwksUri, response_types_supported: ['id_token'], subject_types_supported: ['public'], id_token_signing_alg_values_supported: ['RS256', 'ES256'] });
    }
    if (req.method === 'GET' && req.url === '/openid/v1/jwks') {
      cluster.fetches.jwks += 1;
      return send(200, cluster.jwks);
    }
    if (req.method === 'POST' && req.url === '/apis/authentication.k8s.io/v1/tokenreviews') {
      if (req.headers.authorization !== `Bearer ${cluster.reviewerToken}`) return send(401, status(401, 'Unauthorized'));
      cluster.fetches.reviews += 1;
      return void readJson(req)
        .then((body) => review(cluster, clock, body))
        .then((answer) => send(201, answer), () => send(400, status(400, 'BadRequest')));
    }
    return send(404, status(404, 'NotFound'));
  };
}

/** kube-apiserver's answer: the spec echoed (token included), and the status. */
async function review(cluster: LocalCluster, clock: () => number, body: { spec?: { token?: string; audiences?: string[] } }) {
  const spec = { token: body.spec?.token ?? '', audiences: body.spec?.audiences ?? [] };
  const wanted = spec.audiences.length > 0 ? spec.audiences : [cluster.issuer];
  const base = { kind: 'TokenReview', apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: null }, spec };
  let claims: JWTPayload;
  try {
    ({ payload: claims } = await jwtVerify(spec.token, createLocalJWKSet(cluster.jwks), { issuer: cluster.issuer, currentDate: new Date(clock()) }));
  } catch {
    return { ...base, status: { user: {}, error: '[invalid bearer token, square/go-jose: error in cryptographic primitive]' } };
  }
  const audiences = wanted.filter((a) => [claims.aud].flat().includes(a));
  if (audiences.length === 0) return { ...base, status: { user: {}, error: '[invalid bearer token, token audiences is invalid for the target audiences]' } };
  const k8s = claims['kubernetes.io'] as { namespace: string; serviceaccount: { name: string; uid: string }; pod?: { name: string; uid: string }; node?: { name: string; uid: string } };
  if (k8s.pod && cluster.deletedPods.has(k8s.pod.name)) return { ...base, status: { user: {}, error: `[invalid bearer token, pods "${k8s.pod.name}" not found]` } };
  const extra: Record<string, string[]> = { 'authentication.kubernetes.io/credential-id': [`JTI=${String(claims.jti)}`] };
  if (k8s.pod) Object.assign(extra, { 'authentication.kubernetes.io/pod-name': [k8s.pod.name], 'authentication.kubernetes.io/pod-uid': [k8s.pod.uid] });
  if (k8s.node) Object.assign(extra, { 'authentication.kubernetes.io/node-name': [k8s.node.name], 'authentication.kubernetes.io/node-uid': [k8s.node.uid] });
  const user = {
    username: cluster.impersonate ?? `system:serviceaccount:${k8s.namespace}:${k8s.serviceaccount.name}`,
    uid: k8s.serviceaccount.uid,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${k8s.namespace}`, 'system:authenticated'],
    extra,
  };
  return { ...base, status: cluster.audienceUnaware ? { authenticated: true, user } : { authenticated: true, user, audiences } };
}

function status(code: number, reason: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: reason, reason, code };
}

async function readJson(req: IncomingMessage): Promise<{ spec?: { token?: string; audiences?: string[] } }> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}
