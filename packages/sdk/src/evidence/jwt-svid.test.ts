import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { evidenceAudience } from '../agent/attest.ts';
import { EvidenceSourceError, fetchJwtSvid, readJwtSvid } from './jwt-svid.ts';

const dir = mkdtempSync(join(tmpdir(), 'mandate-sdk-svid-'));
let key: CryptoKey;

before(async () => {
  ({ privateKey: key } = await generateKeyPair('ES256'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const svid = (claims: Record<string, unknown> = {}) =>
  new SignJWT({ sub: 'spiffe://prod.acme.internal/ns/agents/sa/triage', aud: ['mandate'], exp: Math.floor(Date.now() / 1000) + 300, ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'JWT' })
    .sign(key);

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** A stand-in for spire-agent: records its arguments and prints what the real one prints with -output json. */
function fakeSpireAgent(output: string, exitCode = 0): { command: string; args: () => string[] } {
  const argsFile = join(dir, `args-${Math.random().toString(36).slice(2)}.json`);
  const script = `#!${process.execPath}
require('node:fs').writeFileSync(${JSON.stringify(argsFile)}, JSON.stringify(process.argv.slice(2)));
process.stdout.write(${JSON.stringify(output)});
if (${exitCode}) { process.stderr.write('rpc error: connection refused'); process.exit(${exitCode}); }
`;
  const command = file(`spire-agent-${Math.random().toString(36).slice(2)}.cjs`, script);
  chmodSync(command, 0o755);
  return { command, args: () => JSON.parse(readFileSync(argsFile, 'utf8')) as string[] };
}

const isSourceError = (e: unknown) => e instanceof EvidenceSourceError && e.code === 'ERR_SDK_EVIDENCE_SOURCE';

describe('readJwtSvid', () => {
  test('reads a token file as spiffe-helper writes it, trimmed', async () => {
    const token = await svid();
    assert.equal(await readJwtSvid(file('jwt_svid.token', `${token}\n`)), token);
  });

  test('a missing file, an oversized file, and a file that is not a JWT-SVID are refused', async () => {
    await assert.rejects(readJwtSvid(join(dir, 'absent.token')), isSourceError);
    await assert.rejects(readJwtSvid(file('big.token', 'a'.repeat(17_000))), /larger than 16384 bytes/);
    await assert.rejects(readJwtSvid(file('bundle.json', '{"keys":[]}')), /does not hold a JWT-SVID/);
    await assert.rejects(readJwtSvid(file('oidc.token', await svid({ sub: 'repo:acme/agent' }))), /not a SPIFFE ID/);
  });

  test('errors never carry the token', async () => {
    const token = await svid({ sub: 'not-spiffe' });
    await assert.rejects(readJwtSvid(file('leak.token', token)), (e: Error) => !e.message.includes(token.split('.')[2]!));
  });
});

describe('fetchJwtSvid', () => {
  test('runs spire-agent api fetch jwt for the bound audience and returns the SVID', async () => {
    const audience = await evidenceAudience('nonce-1', 'jkt-1');
    const token = await svid({ aud: [audience] });
    const agent = fakeSpireAgent(JSON.stringify([{ svids: [{ spiffe_id: 'spiffe://prod.acme.internal/ns/agents/sa/triage', svid: token, hint: '' }] }, { bundles: {} }]));
    assert.equal(await fetchJwtSvid(audience, { command: agent.command, socketPath: '/run/spire/agent.sock' }), token);
    assert.deepEqual(agent.args(), ['api', 'fetch', 'jwt', '-audience', audience, '-output', 'json', '-socketPath', '/run/spire/agent.sock']);
  });

  test('a failing spire-agent, output without an SVID, and an audience with a comma are refused', async () => {
    await assert.rejects(fetchJwtSvid('mandate:x', { command: fakeSpireAgent('', 1).command }), /connection refused/);
    await assert.rejects(fetchJwtSvid('mandate:x', { command: fakeSpireAgent('[{"svids":[]}]').command }), /no JWT-SVID/);
    await assert.rejects(fetchJwtSvid('a,b'), isSourceError);
  });
});
