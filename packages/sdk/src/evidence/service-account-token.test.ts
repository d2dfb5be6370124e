import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generateKeyPair, SignJWT } from 'jose';
import { ConfigurationError, ResponseFormatError } from '../errors.ts';
import { readServiceAccountToken, requestServiceAccountToken, serviceAccountTokenRequestBody } from './service-account-token.ts';

const dir = mkdtempSync(join(tmpdir(), 'mandate-sdk-k8s-'));
const pod = { name: 'planner-7d9f8c6b5-x2kqz', uid: randomUUID() };
let ownToken: string;
let server: Server;
let apiServer: string;
let answer: { status: number; body: unknown } = { status: 201, body: {} };
const requests: { url: string; authorization: string | undefined; body: unknown }[] = [];

/** A token shaped as kube-apiserver issues it, signed by a key made now. */
async function serviceAccountToken(audience: string): Promise<string> {
  const { privateKey } = await generateKeyPair('RS256');
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    aud: [audience],
    'kubernetes.io': { namespace: 'agents', serviceaccount: { name: 'planner', uid: randomUUID() }, pod, node: { name: 'worker-1', uid: randomUUID() } },
    sub: 'system:serviceaccount:agents:planner',
    jti: randomUUID(),
  })
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .setIssuer('https://kubernetes.default.svc.cluster.local')
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + 3607)
    .sign(privateKey);
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

before(async () => {
  ownToken = await serviceAccountToken('https://kubernetes.default.svc.cluster.local');
  mkdirSync(join(dir, 'sa'));
  writeFileSync(join(dir, 'sa', 'token'), ownToken);
  // The API server's TokenRequest endpoint, as far as the helper sees it.
  server = createServer((req, res) => {
    void readBody(req).then((body) => {
      requests.push({ url: req.url ?? '', authorization: req.headers.authorization, body });
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  apiServer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('readServiceAccountToken', () => {
  test('reads a projected token file, without the trailing newline', async () => {
    const path = join(dir, 'mandate');
    writeFileSync(path, `${ownToken}\n`);
    assert.equal(await readServiceAccountToken(path), ownToken);
  });

  test('refuses a file over 16 KiB', async () => {
    const path = join(dir, 'large');
    writeFileSync(path, `${ownToken}${'A'.repeat(16_384)}`);
    await assert.rejects(readServiceAccountToken(path), ConfigurationError);
  });

  test('refuses a file that holds no JWT, and a missing file, naming the path but no content', async () => {
    const path = join(dir, 'not-a-token');
    writeFileSync(path, 'secret-value-not-a-jwt');
    await assert.rejects(readServiceAccountToken(path), (e: Error) => e instanceof ConfigurationError && !e.message.includes('secret-value'));
    await assert.rejects(readServiceAccountToken(join(dir, 'absent')), /could not be opened/);
  });
});

describe('serviceAccountTokenRequestBody', () => {
  test('a TokenRequest for the challenge audience, bound to the pod', () => {
    assert.deepEqual(serviceAccountTokenRequestBody('mandate:abc', 900, pod), {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { audiences: ['mandate:abc'], expirationSeconds: 900, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.name, uid: pod.uid } },
    });
    assert.deepEqual(serviceAccountTokenRequestBody('mandate:abc').spec, { audiences: ['mandate:abc'], expirationSeconds: 600 });
  });

  test('refuses an empty audience and a lifetime under the API server minimum', () => {
    assert.throws(() => serviceAccountTokenRequestBody(''), ConfigurationError);
    assert.throws(() => serviceAccountTokenRequestBody('mandate:abc', 300), /≥ 600/);
    assert.throws(() => serviceAccountTokenRequestBody('mandate:abc', 600.5), ConfigurationError);
  });
});

describe('requestServiceAccountToken', () => {
  test('posts a pod-bound TokenRequest as the pod\'s own service account and returns the issued token', async () => {
    const issued = await serviceAccountToken('mandate:abc');
    answer = { status: 201, body: { kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1', status: { token: issued, expirationTimestamp: new Date().toISOString() } } };
    const token = await requestServiceAccountToken('mandate:abc', { apiServer, credentialsDir: join(dir, 'sa') });
    assert.equal(token, issued);
    const sent = requests.at(-1)!;
    assert.equal(sent.url, '/api/v1/namespaces/agents/serviceaccounts/planner/token');
    assert.equal(sent.authorization, `Bearer ${ownToken}`);
    assert.deepEqual(sent.body, serviceAccountTokenRequestBody('mandate:abc', 600, pod));
  });

  test('pod: false requests an unbound token', async () => {
    answer = { status: 201, body: { status: { token: await serviceAccountToken('mandate:abc') } } };
    await requestServiceAccountToken('mandate:abc', { apiServer, credentialsDir: join(dir, 'sa'), pod: false });
    assert.equal((requests.at(-1)!.body as { spec: Record<string, unknown> }).spec.boundObjectRef, undefined);
  });

  test('a 403 says which RBAC right is missing', async () => {
    answer = { status: 403, body: { kind: 'Status', status: 'Failure', reason: 'Forbidden', code: 403 } };
    await assert.rejects(requestServiceAccountToken('mandate:abc', { apiServer, credentialsDir: join(dir, 'sa') }), (e: Error) => e instanceof ResponseFormatError && /serviceaccounts\/token/.test(e.message));
  });

  test('a 201 without a token is a format error', async () => {
    answer = { status: 201, body: { status: {} } };
    await assert.rejects(requestServiceAccountToken('mandate:abc', { apiServer, credentialsDir: join(dir, 'sa') }), ResponseFormatError);
  });

  test('refuses plain http to a host that is not loopback: the bearer token would cross the network in clear', async () => {
    await assert.rejects(requestServiceAccountToken('mandate:abc', { apiServer: 'http://kubernetes.example', credentialsDir: join(dir, 'sa') }), /https/);
  });
});
