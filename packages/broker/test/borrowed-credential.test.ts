import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Ajv } from 'ajv';
import { decodeJwt, exportJWK, generateKeyPair } from 'jose';
import { createAgentClient } from '@mandate/sdk';
import { scan } from '../src/scanner/index.ts';
import { runCli } from './support/cli-runner.ts';
import { startLoopFixture, type LoopFixture } from './support/loop-fixture.ts';

/**
 * The end-to-end story: a repository holding a borrowed classic GitHub PAT → `scan()` →
 * `mandate scan`-style report to the broker → finding → `mandate finding convert` → the proposed
 * agent is registered → the agent asks over CIBA with the SDK → the owner approves → the agent
 * holds a DPoP-bound Mandate token for the same service instead. The audit trail tells it in order,
 * its OCSF export validates, and the PAT is nowhere: not in the database, not in any output.
 */

const GITHUB = 'https://api.github.com';
const OWNER_EMAIL = 'dev@example.com';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** CRC-32 (IEEE), written here so the test's token does not come from the scanner it tests. */
function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** A fresh classic PAT: ghp_ + 30 random base62 + their CRC-32 in base62, padded to 6 (GitHub's 2021 format). */
function generateClassicPat(): string {
  const random = Array.from({ length: 30 }, () => BASE62[randomInt(62)]).join('');
  let value = crc32(Buffer.from(random, 'latin1'));
  let checksum = '';
  for (; value > 0; value = Math.floor(value / 62)) checksum = BASE62[value % 62] + checksum;
  return `ghp_${random}${checksum.padStart(6, '0')}`;
}

let fx: LoopFixture;
let repo: string;
const pat = generateClassicPat();
const outputs: string[] = [];

before(async () => {
  fx = await startLoopFixture({ config: { audiences: { [GITHUB]: { actions: ['read', 'write'] } } } });
  repo = mkdtempSync(join(tmpdir(), 'mandate-repo-'));
  mkdirSync(join(repo, 'triage-bot'));
  writeFileSync(join(repo, 'triage-bot', 'config.env'), `# triage bot settings\nLOG_LEVEL=info\nGITHUB_TOKEN=${pat}\n`);
  const git = (...args: string[]) => execFileSync('git', ['-c', `user.email=${OWNER_EMAIL}`, '-c', 'user.name=Dev', ...args], { cwd: repo, stdio: 'ignore' });
  git('init', '-q');
  git('add', '.');
  git('commit', '-q', '-m', 'triage bot');
});
after(async () => {
  await fx?.close();
  rmSync(repo, { recursive: true, force: true });
});

async function cli(...args: string[]): Promise<string> {
  const run = await runCli([...args, '--url', fx.issuer, '--json'], { MANDATE_ADMIN_TOKEN: fx.secrets.admin });
  outputs.push(run.out, run.err);
  assert.equal(run.exitCode, 0, run.err);
  return run.out;
}

test('borrowed PAT → scan → finding → convert → register → ask → approve → DPoP token; audited in order; the PAT is nowhere', async () => {
  const ctx = { actor: fx.admin.id, requestId: 'req_AAAAAAAAAAAAAAAAAAAAAA' };
  const dev = await fx.app.directory.addHuman({ name: 'dev', email: OWNER_EMAIL }, ctx);
  const devSecret = (await fx.app.adminTokens.create({ humanId: dev.id, label: 'dev', rights: ['mandates:read', 'mandates:decide'] }, { ...ctx, callerRights: ['admin'] })).secret;

  // 1. The real scanner finds the PAT and guesses its owner from the git author.
  const report = await scan([repo], { gitOwner: true });
  outputs.push(JSON.stringify(report));
  assert.equal(report.findings.length, 1, JSON.stringify(report.findings));
  const [found] = report.findings;
  assert.deepEqual([found!.kind, found!.service, found!.file, found!.line, found!.ownerGuess], ['github_classic_pat', GITHUB, 'triage-bot/config.env', 3, OWNER_EMAIL]);

  // 2. Reported to the broker as `mandate scan --report` does.
  const { ownerGuess, ...rest } = found!;
  const recorded = await fx.adminApi('POST', '/admin/v1/findings', fx.secrets.admin, { findings: [{ ...rest, owner_guess: ownerGuess }] });
  outputs.push(JSON.stringify(recorded.body));
  assert.equal(recorded.status, 200, JSON.stringify(recorded.body));
  const findingId = (recorded.body.findings as Array<{ id: string; created: boolean }>)[0]!.id;

  // 3. Converted from the CLI: the owner is the human whose email the scanner guessed.
  const converted = JSON.parse(await cli('finding', 'convert', findingId, '--agent-name', 'triage-bot')) as Record<string, any>;
  assert.equal(converted.status, 'converted');
  const proposal = converted.conversion;
  assert.deepEqual(proposal.agent.owners, [dev.id]);
  assert.equal(proposal.login_hint, dev.id);
  assert.deepEqual(proposal.task.locations, [GITHUB]);
  assert.equal(proposal.checklist[0].step, 'revoke_at_provider');
  await cli('finding', 'show', findingId);

  // 4. The proposed agent is registered with its own key (admin API, as `mandate agent add`).
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const { kty, crv, x, y } = await exportJWK(publicKey);
  const registered = await fx.adminApi('POST', '/admin/v1/agents', fx.secrets.admin, {
    name: proposal.agent.name, owners: proposal.agent.owners, approvers: proposal.agent.approvers, policy: proposal.agent.policy ?? 'default', jwk: { kty, crv, x, y },
  });
  assert.equal(registered.status, 201, JSON.stringify(registered.body));
  const agentId = registered.body.id as string;

  // 5. The agent asks for the draft task over CIBA with the SDK; the owner approves it like any request.
  const client = createAgentClient({ issuer: fx.issuer, clientId: agentId, clientKey: await exportJWK(privateKey), evidence: fx.evidence, clock: fx.clock });
  const { authReqId } = await client.ask({
    loginHint: proposal.login_hint, bindingMessage: 'Triage bot without the PAT',
    task: { purpose: proposal.task.purpose, audience: proposal.task.locations[0], actions: proposal.task.actions, notAfter: new Date(fx.clock.now() + 3_600_000) },
  });
  const pending = await fx.adminApi('GET', `/admin/v1/mandates?status=pending&agent=${agentId}`, devSecret);
  const mandateId = (pending.body.mandates as Array<{ id: string }>)[0]!.id;
  const approved = await fx.adminApi('POST', `/admin/v1/mandates/${mandateId}/approve`, devSecret);
  assert.equal(approved.status, 200, JSON.stringify(approved.body));
  const { accessToken } = await client.waitForApproval(authReqId, { interval: 0.05, timeoutMs: 10_000 });

  // 6. The Mandate token: the human as subject, the agent as actor, the one service, DPoP-bound.
  const claims = decodeJwt(accessToken);
  assert.deepEqual([claims.sub, (claims.act as { sub: string }).sub, claims.aud], [dev.id, agentId, GITHUB]);
  assert.equal((claims.cnf as { jkt: string }).jkt, await client.jkt());
  assert.deepEqual((claims.authorization_details as Array<{ actions: string[] }>)[0]!.actions, ['read']);

  // 7. The audit trail, through the export endpoint, tells the story in order and links it up.
  const exported = await fx.adminApi('GET', '/admin/v1/audit/export?format=jsonl&limit=1000', fx.secrets.admin);
  const events = exported.body.events as Array<Record<string, any>>;
  const story = ['finding.recorded', 'finding.converted', 'agent.registered', 'mandate.requested', 'mandate.approved', 'token.issued'];
  const chapters = story.map((type) => events.find((e) => e.type === type && (e.data.finding_id === findingId || e.data.agent_id === agentId || e.actor === agentId || e.mandate_id === mandateId)));
  assert.deepEqual(chapters.map((e) => e?.type), story);
  const positions = chapters.map((e) => events.indexOf(e!));
  assert.deepEqual(positions, [...positions].sort((a, b) => a - b), 'the events are not in story order');
  assert.equal(chapters[1]!.actor, fx.admin.id);
  assert.equal(chapters[1]!.data.owner, dev.id);
  assert.equal(chapters[2]!.data.name, 'triage-bot');
  assert.deepEqual([chapters[4]!.mandate_id, chapters[4]!.approver], [mandateId, dev.id]);
  assert.equal(chapters[5]!.jti, claims.jti);

  // 8. The same trail as OCSF 1.3.0 events validates against the pinned classes' schema.
  const ocsf = await fx.adminApi('GET', '/admin/v1/audit/export?format=ocsf&limit=1000', fx.secrets.admin);
  const validate = new Ajv({ strict: true, strictRequired: false, allErrors: true }).compile(JSON.parse(readFileSync(new URL('./data/ocsf-1.3.0-classes.schema.json', import.meta.url), 'utf8')));
  for (const event of ocsf.body.events as unknown[]) assert.ok(validate(event), JSON.stringify(validate.errors));
  const classes = (ocsf.body.events as Array<{ class_uid: number; message: string }>).filter((e) => story.includes(e.message)).map((e) => e.class_uid);
  assert.deepEqual([...new Set(classes)].sort(), [3003, 3005, 6003]);
  outputs.push(JSON.stringify(exported.body), JSON.stringify(ocsf.body), accessToken);

  // 9. The PAT itself never left the scanner: not in the database files, not in any output.
  const dataDir = fx.app.config.dataDir;
  const files = readdirSync(dataDir).map((name) => join(dataDir, name));
  assert.ok(files.some((f) => f.endsWith('mandate.db')));
  const secretPart = pat.slice(4, 34);
  for (const file of files) {
    const bytes = readFileSync(file);
    assert.equal(bytes.includes(pat), false, `${file} holds the PAT`);
    assert.equal(bytes.includes(secretPart), false, `${file} holds the PAT's random part`);
  }
  for (const text of outputs) assert.equal(text.includes(secretPart), false, 'an output holds the PAT');
});
