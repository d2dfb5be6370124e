import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ConfigError, loadConfig } from '../../src/config/load.ts';
import { fuzz, type FuzzTarget } from './fuzz-harness.ts';
import { fieldMutations, mutateFields, mutateString, stringMutations } from './fuzz-mutate.ts';

/**
 * Config fuzzing (src/config/load.ts): mutated full configs, random JSON documents, YAML-looking
 * and broken text, environment overrides. Every refusal is a ConfigError naming a path; a crash
 * would stop `mandate serve` with a stack trace instead.
 */

/** A config using most sections, valid as written (checked before fuzzing starts). */
export const RICH_CONFIG = {
  issuer: 'https://mandate.example.com',
  dataDir: './data',
  log: { level: 'warn' },
  server: { host: '0.0.0.0', port: 7420 },
  tokens: { accessTokenTtl: '5m' },
  keys: { overlap: '1h' },
  audiences: {
    'https://api.example.com': { actions: ['read', 'write'], datatypes: ['invoice'], introspectionSecretSha256: createHash('sha256').update('s').digest('base64url') },
    'https://auto.example.com': { actions: ['read'], autonomous: { agents: ['agt_AAAAAAAAAAAAAAAAAAAAAA'], actions: ['read'] } },
  },
  attestation: {
    attestors: {
      'oidc-token': { issuers: [{ issuer: 'https://token.actions.githubusercontent.com', discovery: true, claims: ['repository_id', 'sha'] }] },
      'code-digest': {},
      'k8s-sa-token': { issuer: 'https://kubernetes.default.svc.cluster.local', jwksFile: '/etc/mandate/k8s-jwks.json', namespaces: ['agents'] },
      'spiffe-jwt-svid': { trustDomains: [{ trustDomain: 'prod.acme.internal', bundleFile: '/etc/mandate/bundle.json' }] },
      sigstore: { trustedRootFile: '/etc/mandate/trusted_root.json', identities: [{ san: 'https://github.com/acme/agent/.github/workflows/release.yml@refs/heads/main', issuer: 'https://token.actions.githubusercontent.com' }] },
      'tpm-quote': { pcrs: { '10': ['a'.repeat(64)] }, codeEventName: '/usr/bin/agent', allowedDigests: [`sha256:${'b'.repeat(64)}`] },
    },
    policies: {
      default: { freshness: '10m', anyOf: [{ allOf: [{ attestor: 'oidc-token', claims: { repository_id: '123' } }, { attestor: 'code-digest', minStatus: 'warning' }] }] },
      equal: { anyOf: [{ allOf: [{ attestor: 'oidc-token' }, { attestor: 'code-digest', minStatus: 'warning' }] }], equal: [['oidc-token.sha', 'code-digest.digest']] },
      scoped: { agents: ['agt_AAAAAAAAAAAAAAAAAAAAAA'], anyOf: [{ allOf: [{ attestor: 'tpm-quote' }] }] },
    },
  },
  ciba: { interval: 2, maxPendingPerAgent: 4, maxRequestedExpiry: '1h' },
  bootstrap: { adminName: 'root' },
};

const YAMLISH = ['server:\n  port: 7420\n', '---\nissuer: https://x\n', 'a: [1, 2]', '# comment', '- item', 'key: &a value\nother: *a', '{ server: { port: 1 } }', ''];

const configInput = fc.oneof(
  { weight: 4, arbitrary: fieldMutations.map((ms) => ({ file: JSON.stringify(mutateFields(ms, RICH_CONFIG)), env: {} })) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((value) => ({ file: JSON.stringify(value), env: {} })) },
  { weight: 1, arbitrary: fc.oneof(fc.constantFrom(...YAMLISH), fc.string({ maxLength: 80 }), stringMutations.map((edits) => mutateString(edits, JSON.stringify(RICH_CONFIG)))).map((file) => ({ file, env: {} })) },
  {
    weight: 2,
    arbitrary: fc.record({
      MANDATE_PORT: fc.oneof(fc.constantFrom('0', '7420', '65536', '-1', '1e3', '0x10', '', ' 80', '99999999999999999999'), fc.string({ maxLength: 8 })),
      MANDATE_HOST: fc.oneof(fc.constantFrom('127.0.0.1', '0.0.0.0', '::1', ''), fc.string({ maxLength: 12 })),
      MANDATE_ISSUER: fc.oneof(fc.constantFrom('https://a.example', 'http://localhost:1/', 'javascript:alert(1)', 'https://a?b', ''), fc.webUrl(), fc.string({ maxLength: 20 })),
      MANDATE_LOG_LEVEL: fc.oneof(fc.constantFrom('info', 'loud', ''), fc.string({ maxLength: 8 })),
      MANDATE_STORE_URL: fc.oneof(fc.constant(undefined), fc.constantFrom('postgres://u:p@127.0.0.1/db', 'mysql://x', ''), fc.string({ maxLength: 20 })),
    }, { requiredKeys: [] }).map((env) => ({ file: JSON.stringify(RICH_CONFIG), env: env as Record<string, string | undefined> })),
  },
);

/** A ConfigError whose every issue names where: a dotted path (or the file / root marker) and a message. */
function isConfigRejection(error: unknown): boolean {
  if (!(error instanceof ConfigError) || error.issues.length === 0) return false;
  return error.issues.every((issue) => typeof issue.path === 'string' && issue.path.length > 0 && typeof issue.message === 'string' && issue.message.length > 0);
}

export function configTarget(): FuzzTarget & { close(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-fuzz-config-'));
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(RICH_CONFIG));
  loadConfig({ flags: { config: file }, env: {}, cwd: dir }); // the base is valid
  return {
    name: 'parser config',
    weight: 2,
    run: (options) =>
      fuzz('parser config', configInput, (input) => {
        writeFileSync(file, input.file);
        loadConfig({ flags: { config: file }, env: input.env, cwd: dir });
      }, isConfigRejection, options),
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}

