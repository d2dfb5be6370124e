import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { CREDENTIAL_KINDS } from '../../core/finding.ts';
import { findInText } from '../scan-text.ts';
import { DETECTOR_FAMILIES } from '../registry.ts';
import { crc32 } from './crc32.ts';
import { githubChecksum } from './github.ts';
import { humanSubjectOf } from './jwt-subject.ts';
import { BASE62, URLSAFE, githubToken, randomFrom, signedJwt } from '../../../test/support/secret-corpus.ts';

const kindsIn = (text: string) => findInText(text).map((f) => f.kind);

test('the registry covers every credential kind exactly once', () => {
  assert.deepEqual(DETECTOR_FAMILIES.flatMap((f) => f.kinds).sort(), [...CREDENTIAL_KINDS].sort());
});

test('crc32 agrees with zlib', () => {
  for (let n = 0; n < 20; n++) {
    const bytes = randomBytes(n * 7);
    assert.equal(crc32(bytes), zlibCrc32(bytes));
  }
});

test('github classic: a valid checksum is found, a wrong one is not', () => {
  const token = githubToken('ghp_');
  assert.equal(githubChecksum(token.slice(4, 34)), token.slice(34));
  assert.deepEqual(kindsIn(`GITHUB_TOKEN=${token}`), ['github_classic_pat']);
  const broken = `${token.slice(0, 34)}${token.slice(34) === 'AAAAAA' ? 'BBBBBB' : 'AAAAAA'}`;
  assert.deepEqual(kindsIn(`GITHUB_TOKEN=${broken}`), []);
  assert.deepEqual(kindsIn(`x=${githubToken('ghs_')} y=${githubToken('ghr_')}`), [], 'app installation and refresh tokens are no PATs');
});

test('github fine-grained: github_pat_ + 22 + _ + 59', () => {
  assert.deepEqual(kindsIn(`t: github_pat_11${randomFrom(BASE62, 20)}_${randomFrom(BASE62, 59)}`), ['github_fine_grained_pat']);
  assert.deepEqual(kindsIn(`t: github_pat_11${randomFrom(BASE62, 20)}_${'X'.repeat(59)}`), []);
});

test('gitlab: legacy 20-char and routable tokens; placeholders are not', () => {
  assert.deepEqual(kindsIn(`GITLAB_TOKEN=glpat-${randomFrom(URLSAFE, 20)}`), ['gitlab_pat']);
  assert.deepEqual(kindsIn(`GITLAB_TOKEN=glpat-${randomFrom(URLSAFE, 40)}.01.${randomFrom('0123456789abcdefghijklmnopqrstuvwxyz', 9)}`), ['gitlab_pat']);
  assert.deepEqual(kindsIn('GITLAB_TOKEN=glpat-xxxxxxxxxxxxxxxxxxxx'), []);
  assert.deepEqual(kindsIn(`GITLAB_TOKEN=glpat-${randomFrom(URLSAFE, 24)}`), [], '24 chars is neither shape');
});

test('slack: xoxp- user tokens are found, xoxb- bot tokens are not', () => {
  const hex = randomBytes(16).toString('hex');
  assert.deepEqual(kindsIn(`SLACK=xoxp-12345678901-12345678902-1234567890123-${hex}`), ['slack_user_token']);
  assert.deepEqual(kindsIn(`SLACK=xoxe.xoxp-1-${randomFrom(URLSAFE, 140)}`), ['slack_user_token']);
  assert.deepEqual(kindsIn(`SLACK=xoxb-12345678901-1234567890123-${randomFrom(BASE62, 24)}`), []);
});

test('aws: AKIA with and without its secret; the documented example and ASIA keys are not found', () => {
  const id = `AKIA${randomFrom('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}`;
  const [paired] = findInText(`aws_access_key_id = ${id}\naws_secret_access_key = ${randomFrom(`${BASE62}+/`, 40)}\n`);
  assert.equal(paired?.kind, 'aws_access_key');
  assert.match(paired!.reason, /with its secret access key nearby/);
  const [alone] = findInText(`aws_access_key_id = ${id}\n`);
  assert.match(alone!.reason, /was not seen within 5 lines/);
  const far = `aws_access_key_id = ${id}\n${'x\n'.repeat(8)}secret = ${randomFrom(`${BASE62}+/`, 40)}\n`;
  assert.match(findInText(far)[0]!.reason, /was not seen/);
  assert.deepEqual(kindsIn('AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'), []);
  assert.deepEqual(kindsIn(`ASIA${randomFrom('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}`), []);
});

test('google: refresh tokens and client secrets', () => {
  assert.deepEqual(kindsIn(`refresh_token: 1//0g${randomFrom(URLSAFE, 98)}`), ['google_refresh_token']);
  assert.deepEqual(kindsIn(`client_secret: GOCSPX-${randomFrom(URLSAFE, 28)}`), ['google_client_secret']);
  assert.deepEqual(kindsIn('client_secret: GOCSPX-your-client-secret-here-xx'), []);
});

test('openai: user and project keys are found, service-account and admin keys are not', () => {
  const mid = () => `${randomFrom(URLSAFE, 74)}T3BlbkFJ${randomFrom(URLSAFE, 74)}`;
  assert.deepEqual(kindsIn(`OPENAI_API_KEY=sk-proj-${mid()}`), ['openai_api_key']);
  assert.deepEqual(kindsIn(`OPENAI_API_KEY=sk-${randomFrom(BASE62, 20)}T3BlbkFJ${randomFrom(BASE62, 20)}`), ['openai_api_key']);
  assert.deepEqual(kindsIn(`OPENAI_API_KEY=sk-svcacct-${mid()}`), []);
  assert.deepEqual(kindsIn(`OPENAI_ADMIN_KEY=sk-admin-${mid()}`), []);
  assert.deepEqual(kindsIn('OPENAI_API_KEY=sk-your-api-key-here'), []);
});

test('anthropic: sk-ant-api03- + 93 + AA', () => {
  assert.deepEqual(kindsIn(`ANTHROPIC_API_KEY=sk-ant-api03-${randomFrom(URLSAFE, 93)}AA`), ['anthropic_api_key']);
  assert.deepEqual(kindsIn(`ANTHROPIC_API_KEY=sk-ant-api03-${randomFrom(URLSAFE, 93)}`), []);
  assert.deepEqual(kindsIn(`ANTHROPIC_API_KEY=sk-ant-api03-${'x'.repeat(93)}AA`), []);
});

test('the human-JWT rule: human subjects', () => {
  assert.deepEqual(humanSubjectOf({ sub: 'alice@acme.example' }), { ownerGuess: 'alice@acme.example', because: 'its subject is an email address' });
  assert.equal(humanSubjectOf({ sub: 'usr_0123456789abcdef' })?.because, 'its subject is a known human user id');
  assert.equal(humanSubjectOf({ sub: 'auth0|65a1b2c3', email: 'bob@acme.example' })?.ownerGuess, 'bob@acme.example');
  assert.equal(humanSubjectOf({ sub: '00u1a2b3c4d5e6f7g8h9' })?.because, 'its subject is a known human user id');
  assert.equal(humanSubjectOf({ sub: 'f0c5…opaque', upn: 'carol@acme.example' })?.because, 'it names a person in an email-valued claim');
});

test('the human-JWT rule: workloads, services and delegated tokens are not human', () => {
  const notHuman = [
    { sub: 'spiffe://acme.example/ns/prod/sa/agent' },
    { sub: 'system:serviceaccount:agents:triage' },
    { sub: 'repo:acme/agent:ref:refs/heads/main' },
    { sub: 'Xy12@clients', email: 'ops@acme.example' },
    { sub: 'agent@acme-prod.iam.gserviceaccount.com' },
    { sub: '1234567890', email: 'agent@acme-prod.iam.gserviceaccount.com' },
    { sub: 'client-1', client_id: 'client-1', email: 'ops@acme.example' },
    { sub: 'client-1', azp: 'client-1' },
    { sub: 'dev@acme.example', gty: 'client-credentials' },
    { sub: 'usr_0123456789abcdef', act: { sub: 'agt_1' } },
    { sub: 'svc-billing' },
    { sub: 'c0ffee00-0000-4000-8000-000000000000' },
    { email: 'dev@acme.example' },
  ];
  for (const claims of notHuman) assert.equal(humanSubjectOf(claims), null, JSON.stringify(claims));
});

test('a human JWT: service from aud, then iss; unsigned tokens are not credentials', () => {
  const [found] = findInText(`ID_TOKEN=${signedJwt({ iss: 'https://idp.example', aud: 'https://api.acme.example', sub: 'dan@acme.example' })}`);
  assert.equal(found?.service, 'https://api.acme.example');
  assert.equal(found?.ownerGuess, 'dan@acme.example');
  assert.equal(findInText(signedJwt({ iss: 'https://idp.example', aud: 'account', sub: 'dan@acme.example' }))[0]?.service, 'https://idp.example');
  assert.equal(findInText(signedJwt({ iss: 'idp', aud: 'account', sub: 'dan@acme.example' }))[0]?.service, 'https://unknown.invalid');
  assert.deepEqual(kindsIn(signedJwt({ sub: 'dan@acme.example' }, 'none')), []);
});

test('findings carry the line, a fingerprint and never the secret; one per secret and line', () => {
  const token = githubToken('ghp_');
  const findings = findInText(`a\nb\nX=${token} Y=${token}\n\nZ=${token}\n`);
  assert.deepEqual(findings.map((f) => f.line), [3, 5]);
  assert.match(findings[0]!.fingerprint, /^sha256:[A-Za-z0-9_-]{43}$/);
  assert.ok(!JSON.stringify(findings).includes(token.slice(4, 34)));
});
