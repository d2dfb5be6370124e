import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ConfigError, loadConfig, validateConfigFile, type ConfigIssue } from './load.ts';

const dir = mkdtempSync(join(tmpdir(), 'mandate-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let fileCount = 0;

function writeConfig(content: unknown): string {
  const path = join(dir, `config-${++fileCount}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function issuesOf(load: () => unknown): ConfigIssue[] {
  try {
    load();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error.issues;
  }
  assert.fail('expected the config to be rejected');
}

const fromFile = (content: unknown) => issuesOf(() => loadConfig({ flags: { config: writeConfig(content) }, env: {} }));

describe('defaults', () => {
  test('no file, no env, no flags: data ./.mandate, port 7420, issuer http://localhost:7420', () => {
    const config = loadConfig({ env: {}, cwd: dir });
    assert.equal(config.server.port, 7420);
    assert.equal(config.server.host, '127.0.0.1');
    assert.equal(config.issuer, 'http://localhost:7420');
    assert.equal(config.dataDir, join(dir, '.mandate'));
    assert.equal(config.audit.checkpointFile, join(dir, '.mandate', 'audit-checkpoints.jsonl'));
    assert.equal(config.tokens.accessTokenTtl, 300_000);
    assert.equal(config.keys.overlap, 3_600_000);
  });

  test('the issuer follows --port', () => {
    assert.equal(loadConfig({ flags: { port: '8123' }, env: {} }).issuer, 'http://localhost:8123');
  });

  test('flags win over env, env over the file', () => {
    const file = writeConfig({ server: { port: 7000 }, log: { level: 'warn' } });
    const config = loadConfig({ flags: { config: file, port: '7002' }, env: { MANDATE_PORT: '7001', MANDATE_LOG_LEVEL: 'debug' } });
    assert.equal(config.server.port, 7002);
    assert.equal(config.log.level, 'debug');
  });

  test('MANDATE_CONFIG names the file', () => {
    const file = writeConfig({ dataDir: '/var/lib/mandate' });
    assert.equal(loadConfig({ env: { MANDATE_CONFIG: file } }).dataDir, '/var/lib/mandate');
  });
});

describe('every kind of mistake fails with a dotted path', () => {
  const cases: Array<[string, unknown, string, RegExp]> = [
    ['unknown top-level key', { prot: 1 }, 'prot', /unknown key/],
    ['unknown nested key', { server: { prot: 1 } }, 'server.prot', /unknown key/],
    ['wrong type', { server: { port: '80' } }, 'server.port', /expected number/],
    ['number out of range', { server: { port: 70000 } }, 'server.port', /<=65535/],
    ['not an integer', { server: { port: 80.5 } }, 'server.port', /int/i],
    ['bad enum value', { log: { level: 'loud' } }, 'log.level', /expected one of/],
    ['bad duration', { tokens: { accessTokenTtl: '5 minutes' } }, 'tokens.accessTokenTtl', /duration/],
    ['token lifetime above 5m', { tokens: { accessTokenTtl: '10m' } }, 'tokens.accessTokenTtl', /at most 5m/],
    ['overlap shorter than token lifetime', { keys: { overlap: '1m' } }, 'keys.overlap', /at least tokens.accessTokenTtl/],
    ['issuer not a URL', { issuer: 'localhost:7420' }, 'issuer', /URL/i],
    ['issuer with a query', { issuer: 'https://id.example.com?x=1' }, 'issuer', /no query/],
    ['issuer with trailing slash', { issuer: 'https://id.example.com/' }, 'issuer', /trailing slash/],
    ['non-loopback host without https issuer', { server: { host: '0.0.0.0' } }, 'server.host', /https issuer/],
    ['audience that is not a URL', { audiences: { 'not a uri': { actions: ['read'] } } }, 'audiences.not a uri', /.+/],
    ['audience without actions', { audiences: { 'https://api.example.com': { actions: [] } } }, 'audiences.https://api.example.com.actions', /too small|>=1/i],
    ['policy with empty anyOf', { attestation: { policies: { ci: { anyOf: [] } } } }, 'attestation.policies.ci.anyOf', /too small|>=1/i],
    ['policy requirement with unknown key', { attestation: { policies: { ci: { anyOf: [{ allOf: [{ attestor: 'oidc-token', claim: {} }] }] } } } }, 'attestation.policies.ci.anyOf.0.allOf.0.claim', /unknown key/],
    ['policy requirement naming an unknown attestor', { attestation: { policies: { ci: { anyOf: [{ allOf: [{ attestor: 'tpm-qoute' }] }] } } } }, 'attestation.policies.ci.anyOf.0.allOf.0.attestor', /expected one of/],
    ['bad minStatus', { attestation: { policies: { ci: { anyOf: [{ allOf: [{ attestor: 'code-digest', minStatus: 'contraindicated' }] }] } } } }, 'attestation.policies.ci.anyOf.0.allOf.0.minStatus', /expected one of/],
    ['policy scoped to something not an agent id', { attestation: { policies: { ci: { agents: ['usr_AAAAAAAAAAAAAAAAAAAAAA'], anyOf: [{ allOf: [{ attestor: 'oidc-token' }] }] } } } }, 'attestation.policies.ci.agents.0', /agent id/],
    ['equality side without a claim', { attestation: { policies: { ci: { anyOf: [{ allOf: [{ attestor: 'oidc-token' }] }], equal: [['oidc-token.sha', 'code-digest']] } } } }, 'attestation.policies.ci.equal.0.1', /<attestor>\.<claim>/],
    ['equality naming an unknown attestor', { attestation: { policies: { ci: { anyOf: [{ allOf: [{ attestor: 'oidc-token' }] }], equal: [['tpm.ima', 'code-digest.digest']] } } } }, 'attestation.policies.ci.equal.0.0', /unknown attestor/],
    ['equality within one attestor', { attestation: { policies: { ci: { anyOf: [{ allOf: [{ attestor: 'oidc-token' }] }], equal: [['oidc-token.sub', 'oidc-token.sha']] } } } }, 'attestation.policies.ci.equal.0', /two different attestors/],
    ['unknown attestor section', { attestation: { attestors: { 'tpm-qoute': {} } } }, 'attestation.attestors.tpm-qoute', /unknown key/],
    ['code-digest takes no settings', { attestation: { attestors: { 'code-digest': { strict: true } } } }, 'attestation.attestors.code-digest.strict', /unknown key/],
    ['oidc issuer with two key sources', { attestation: { attestors: { 'oidc-token': { issuers: [{ issuer: 'https://token.actions.githubusercontent.com', discovery: true, jwksFile: 'jwks.json' }] } } } }, 'attestation.attestors.oidc-token.issuers.0', /exactly one of discovery, jwksUri, jwksFile/],
    ['oidc issuer over plain http off loopback', { attestation: { attestors: { 'oidc-token': { issuers: [{ issuer: 'http://ci.example.com', discovery: true }] } } } }, 'attestation.attestors.oidc-token.issuers.0.issuer', /https/],
    ['oidc issuer allowing HMAC', { attestation: { attestors: { 'oidc-token': { issuers: [{ issuer: 'https://ci.example.com', discovery: true, allowedAlgs: ['HS256'] }] } } } }, 'attestation.attestors.oidc-token.issuers.0.allowedAlgs.0', /expected one of/],
    ['root is not an object', [1, 2], '(root)', /object/],
  ];
  for (const [name, content, path, message] of cases) {
    test(name, () => {
      const issue = fromFile(content).find((i) => i.path === path);
      assert.ok(issue, `no issue at ${path}: ${JSON.stringify(fromFile(content))}`);
      assert.match(issue.message, message);
    });
  }

  test('file that is not JSON', () => {
    const [issue] = fromFile('{ port: 1 ');
    assert.equal(issue?.path, '(file)');
    assert.match(issue?.message ?? '', /not valid JSON/);
  });

  test('file that does not exist', () => {
    const [issue] = issuesOf(() => loadConfig({ flags: { config: join(dir, 'missing.json') }, env: {} }));
    assert.equal(issue?.path, '(file)');
    assert.match(issue?.message ?? '', /ENOENT/);
  });

  test('a bad env value names its variable', () => {
    const [issue] = issuesOf(() => loadConfig({ env: { MANDATE_PORT: 'eighty' } }));
    assert.deepEqual(issue, { path: 'server.port', message: 'Invalid input: expected number, received string', source: 'MANDATE_PORT' });
  });

  test('a bad flag value names its flag', () => {
    const [issue] = issuesOf(() => loadConfig({ flags: { logLevel: 'loud' }, env: {} }));
    assert.equal(issue?.path, 'log.level');
    assert.equal(issue?.source, '--log-level');
  });

  test('the error message carries the dotted path', () => {
    assert.throws(() => loadConfig({ flags: { config: writeConfig({ server: { port: -1 } }) }, env: {} }), /config error at server\.port: /);
  });
});

describe('config validate', () => {
  test('a valid file has no issues', () => {
    const file = writeConfig({
      issuer: 'https://id.example.com',
      server: { host: '0.0.0.0', port: 443 },
      audiences: { 'https://api.example.com': { actions: ['read', 'write'] } },
      attestation: { policies: { ci: { freshness: '5m', anyOf: [{ allOf: [{ attestor: 'oidc-token', claims: { repository_id: '42' } }] }] } } },
    });
    assert.deepEqual(validateConfigFile(file), []);
  });

  test('attestors and a policy using every key', () => {
    const file = writeConfig({
      attestation: {
        attestors: {
          'oidc-token': { issuers: [{ issuer: 'https://token.actions.githubusercontent.com', discovery: true, claims: ['repository_id', 'job_workflow_ref'], allowFixedAudience: 'sts.amazonaws.com' }], clockSkew: '10s' },
          'code-digest': {},
        },
        policies: {
          ci: {
            freshness: '5m',
            agents: ['agt_AAAAAAAAAAAAAAAAAAAAAA'],
            anyOf: [{ allOf: [{ attestor: 'oidc-token', claims: { repository_id: '42' } }, { attestor: 'code-digest', minStatus: 'warning' }] }],
            equal: [['oidc-token.job_workflow_sha', 'code-digest.digest']],
          },
        },
      },
    });
    assert.deepEqual(validateConfigFile(file), []);
    const config = loadConfig({ flags: { config: file }, env: {} });
    assert.deepEqual(config.attestation.attestors['oidc-token']?.issuers[0]?.allowedAlgs, ['RS256', 'ES256']);
    assert.equal(config.attestation.attestors['oidc-token']?.clockSkew, 10_000);
    assert.equal(config.attestation.policies.ci?.anyOf[0]?.allOf[0]?.minStatus, 'affirming');
  });

  test('an invalid file lists every issue', () => {
    const issues = validateConfigFile(writeConfig({ server: { port: 'x', extra: true }, log: { level: 'loud' } }));
    assert.deepEqual(issues.map((i) => i.path).sort(), ['log.level', 'server.extra', 'server.port']);
  });
});
