/**
 * Evidence for the broker's `k8s-sa-token` attestor: a Kubernetes service-account token, read
 * from a projected volume or requested per challenge through the TokenRequest API. Node.js only
 * (files and the cluster's private CA).
 *
 * @module
 */
import { open, readFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { ConfigurationError, ResponseFormatError } from '../errors.ts';

/** Where a pod spec conventionally mounts a projected token for Mandate (`serviceAccountToken.path: mandate`). */
export const PROJECTED_TOKEN_PATH = '/var/run/secrets/tokens/mandate';
/** The pod's own API credentials: `token`, `ca.crt`, `namespace` (the kube-api-access volume). */
export const IN_CLUSTER_CREDENTIALS_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

const MAX_TOKEN_BYTES = 16_384;
const MAX_RESPONSE_BYTES = 65_536;
const TIMEOUT_MS = 10_000;
/** kube-apiserver refuses a TokenRequest for less than 10 minutes. */
const MIN_EXPIRATION_SECONDS = 600;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** A pod the requested token is bound to: the token dies with the pod. */
export interface BoundPod {
  name: string;
  uid: string;
}

/** The body of `POST /api/v1/namespaces/{ns}/serviceaccounts/{name}/token` (authentication.k8s.io/v1 TokenRequest). */
export interface TokenRequestBody {
  apiVersion: 'authentication.k8s.io/v1';
  kind: 'TokenRequest';
  spec: { audiences: string[]; expirationSeconds: number; boundObjectRef?: { apiVersion: 'v1'; kind: 'Pod'; name: string; uid: string } };
}

export interface ServiceAccountTokenRequestOptions {
  /** API server URL; default `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`. */
  apiServer?: string;
  /** Directory with the pod's own `token` and `ca.crt`; default {@link IN_CLUSTER_CREDENTIALS_DIR}. */
  credentialsDir?: string;
  /** Default 600, the minimum the API server accepts. */
  expirationSeconds?: number;
  /** Bind the token to this pod (default: the pod named in the pod's own token); `false` for none. */
  pod?: BoundPod | false;
}

/**
 * Reads a projected service-account token file, trimmed. Its audience is the one fixed in the pod
 * spec, so the broker takes it only with `allowFixedAudience`, as a `warning` (PROTOCOL §3). For
 * evidence bound to the challenge, use {@link requestServiceAccountToken}.
 *
 * @example
 * ```ts
 * const evidence = [{ attestor: 'k8s-sa-token', evidence: await readServiceAccountToken() }];
 * ```
 */
export async function readServiceAccountToken(path: string = PROJECTED_TOKEN_PATH): Promise<string> {
  const bytes = await readAtMost(path, MAX_TOKEN_BYTES + 1);
  if (bytes.length > MAX_TOKEN_BYTES) throw new ConfigurationError(`${path} is larger than ${MAX_TOKEN_BYTES} bytes: not a service-account token`);
  const token = bytes.toString('utf8').trim();
  if (!COMPACT_JWS.test(token)) throw new ConfigurationError(`${path} does not hold a compact JWT`);
  return token;
}

/**
 * The TokenRequest body for a token with `audience` (the challenge's, from `EvidenceBinding`),
 * living `expirationSeconds` (≥ 600), bound to `pod` when given.
 *
 * @example
 * ```ts
 * const body = serviceAccountTokenRequestBody(audience, 600, { name: 'planner-7d9f8c6b5-x2kqz', uid });
 * ```
 */
export function serviceAccountTokenRequestBody(audience: string, expirationSeconds: number = MIN_EXPIRATION_SECONDS, pod?: BoundPod): TokenRequestBody {
  if (typeof audience !== 'string' || audience === '') throw new ConfigurationError('the audience must be a non-empty string');
  if (!Number.isInteger(expirationSeconds) || expirationSeconds < MIN_EXPIRATION_SECONDS)
    throw new ConfigurationError(`expirationSeconds must be an integer ≥ ${MIN_EXPIRATION_SECONDS} (the API server's minimum)`);
  const spec: TokenRequestBody['spec'] = { audiences: [audience], expirationSeconds };
  if (pod) spec.boundObjectRef = { apiVersion: 'v1', kind: 'Pod', name: pod.name, uid: pod.uid };
  return { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec };
}

/**
 * From inside a pod: asks the API server for a token of the pod's service account with the
 * challenge's audience, bound to the pod. The service account needs RBAC `create` on
 * `serviceaccounts/token` for itself (see the broker's k8s-sa-token README).
 *
 * @example
 * ```ts
 * const agent = createAgentClient({ ..., evidence: async ({ audience }) => [
 *   { attestor: 'k8s-sa-token', evidence: await requestServiceAccountToken(audience) },
 * ] });
 * ```
 */
export async function requestServiceAccountToken(audience: string, options: ServiceAccountTokenRequestOptions = {}): Promise<string> {
  const dir = options.credentialsDir ?? IN_CLUSTER_CREDENTIALS_DIR;
  const ownToken = await readServiceAccountToken(join(dir, 'token'));
  const own = ownIdentity(ownToken);
  const pod = options.pod === undefined ? own.pod : options.pod || undefined;
  const body = serviceAccountTokenRequestBody(audience, options.expirationSeconds, pod);
  const base = apiServerUrl(options.apiServer);
  const url = new URL(`${base.href.replace(/\/$/, '')}/api/v1/namespaces/${encodeURIComponent(own.namespace)}/serviceaccounts/${encodeURIComponent(own.name)}/token`);
  const ca = url.protocol === 'https:' ? await readFile(join(dir, 'ca.crt')).catch(() => undefined) : undefined;
  const response = await post(url, JSON.stringify(body), ownToken, ca);
  if (response.status !== 201 && response.status !== 200) throw new ResponseFormatError(explainStatus(response.status), url.href);
  return readIssuedToken(response.text, url.href);
}

/** The pod's own (kube-api-access) token names its namespace, service account and pod. */
function ownIdentity(token: string): { namespace: string; name: string; pod?: BoundPod } {
  let claims: { 'kubernetes.io'?: { namespace?: unknown; serviceaccount?: { name?: unknown }; pod?: { name?: unknown; uid?: unknown } } };
  try {
    claims = decodeJwt(token);
  } catch (error) {
    throw new ConfigurationError('the pod\'s own token is not a JWT', { cause: error });
  }
  const block = claims['kubernetes.io'];
  const namespace = block?.namespace;
  const name = block?.serviceaccount?.name;
  if (typeof namespace !== 'string' || typeof name !== 'string') throw new ConfigurationError('the pod\'s own token names no service account');
  const pod = block?.pod;
  return typeof pod?.name === 'string' && typeof pod.uid === 'string' ? { namespace, name, pod: { name: pod.name, uid: pod.uid } } : { namespace, name };
}

/** The bearer token must not cross a network in clear: https, or http on loopback (tests, proxies). */
function apiServerUrl(configured: string | undefined): URL {
  const { KUBERNETES_SERVICE_HOST: host, KUBERNETES_SERVICE_PORT: port } = process.env;
  const fallback = host ? `https://${host.includes(':') ? `[${host}]` : host}:${port ?? '443'}` : undefined;
  const value = configured ?? fallback;
  if (value === undefined || !URL.canParse(value)) throw new ConfigurationError('no API server: pass apiServer or run in a pod (KUBERNETES_SERVICE_HOST)');
  const url = new URL(value);
  if (url.protocol === 'https:' || (url.protocol === 'http:' && ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname))) return url;
  throw new ConfigurationError('the API server URL must be https (http only on loopback)');
}

function explainStatus(status: number): string {
  const hint = status === 403 ? ': the service account needs RBAC create on serviceaccounts/token for itself' : '';
  return `the TokenRequest was answered ${status}${hint}`;
}

function readIssuedToken(text: string, endpoint: string): string {
  let token: unknown;
  try {
    token = (JSON.parse(text) as { status?: { token?: unknown } }).status?.token;
  } catch {
    throw new ResponseFormatError('the TokenRequest response is not JSON', endpoint);
  }
  if (typeof token !== 'string' || !COMPACT_JWS.test(token)) throw new ResponseFormatError('the TokenRequest response has no status.token', endpoint);
  return token;
}

async function readAtMost(path: string, limit: number): Promise<Buffer> {
  let file;
  try {
    file = await open(path, 'r');
  } catch (error) {
    throw new ConfigurationError(`${path} could not be opened: is the token volume mounted?`, { cause: error });
  }
  try {
    const buffer = Buffer.alloc(limit);
    const { bytesRead } = await file.read(buffer, 0, limit, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

/** One POST with a deadline and a size cap; node:https because the cluster CA is private. */
function post(url: URL, body: string, bearer: string, ca: Buffer | undefined): Promise<{ status: number; text: string }> {
  const options = {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', accept: 'application/json' },
    signal: AbortSignal.timeout(TIMEOUT_MS),
  };
  return new Promise((resolve, reject) => {
    const onResponse = (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_RESPONSE_BYTES) chunks.push(chunk);
        else res.destroy(new Error('response too large'));
      });
      res.on('error', (error) => reject(new ResponseFormatError(`the TokenRequest response failed: ${error.message}`, url.href)));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    };
    const req = url.protocol === 'https:' ? httpsRequest(url, { ...options, ca }, onResponse) : httpRequest(url, options, onResponse);
    req.on('error', (error) => reject(new ResponseFormatError(`the TokenRequest failed: ${error.message}`, url.href)));
    req.end(body);
  });
}
