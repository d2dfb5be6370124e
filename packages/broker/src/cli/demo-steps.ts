import { ATTESTATION_CLAIM, createAgentClient, OAuthResponseError, type AgentClient, type AttestationResult, type EvidenceProvider } from '@mandate/sdk';
import { exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { verifyAudit } from '../audit/verify.ts';
import { verificationKeysFromStore } from '../audit/verification-keys.ts';
import { nodeChainHashing } from '../store/chain-hashing.ts';
import { AdminApiError, createAdminClient, type AdminClient } from './admin-client.ts';
import { printable, type Io } from './cli-output.ts';
import type { DemoStage } from './demo-stage.ts';
import { printAuditTrail } from './mandate-commands.ts';
import { decodeToken, formatFields } from './token-inspect.ts';

export type Wire = Record<string, unknown>;

export interface Step {
  title: string;
  run(): Promise<void>;
}

/** What the steps pass on to the ones after them. */
export interface DemoState {
  alice: Wire;
  bob: Wire;
  agentId: string;
  /** The agent's private_key_jwt key (ES256), for any other client of the same agent. */
  agentKey: CryptoKey;
  agent: AgentClient;
  approver: AdminClient;
  jkt: string;
  attestation: AttestationResult;
  authReqId: string;
  mandateId: string;
}

/** A step did something other than what the loop promises. */
export class Unexpected extends Error {}

export function expect(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Unexpected(message);
}

/** One indented `label  value` line of a step's output. */
export function sayTo(io: Io): (label: string, value: string) => void {
  return (label, value) => io.out(`   ${label.padEnd(15)} ${printable(value)}\n`);
}

export function describeError(error: unknown): string {
  if (error instanceof AdminApiError) return `${error.code}: ${error.detail}`;
  return printable((error as Error).message ?? String(error));
}

/** The attestors of an attestation result and the DPoP key it is bound to, as its signed claims state them. */
export function readResult(attestation: AttestationResult): { attestors: Record<string, { status: string; claims: Wire }>; jkt: unknown } {
  const claims = decodeToken(attestation.attestation).claims;
  return { attestors: claims.attestors as Record<string, { status: string; claims: Wire }>, jkt: (claims.cnf as Wire | undefined)?.jkt };
}

/**
 * Step 1 of every demo: two owners, an agent on `policy` whose SDK client answers challenges
 * with `evidence`, and an admin token for Alice.
 */
export function registerStep(stage: DemoStage, io: Io, s: DemoState, agent: { policy: string; evidence: EvidenceProvider }): Step {
  const say = sayTo(io);
  return {
    title: 'Register two owners and an agent (admin API, bootstrap admin token)',
    async run() {
      s.alice = await stage.admin.post('/admin/v1/humans', { name: 'Alice', email: 'alice@example.com' });
      s.bob = await stage.admin.post('/admin/v1/humans', { name: 'Bob', email: 'bob@example.com' });
      const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
      const owners = [s.alice.id, s.bob.id];
      const created = await stage.admin.post('/admin/v1/agents', { name: 'triage-bot', owners, policy: agent.policy, jwk: await exportJWK(publicKey) });
      expect(created.status === 'active', `agent status is ${String(created.status)}`);
      s.agentId = created.id as string;
      s.agentKey = privateKey;
      const token = await stage.admin.post('/admin/v1/tokens', { human_id: s.alice.id, label: 'alice-cli', rights: ['mandates:read', 'mandates:decide', 'mandates:revoke'], expires_in: 3600 });
      s.approver = createAdminClient({ url: stage.brokerUrl, token: token.secret as string });
      s.agent = createAgentClient({ issuer: stage.brokerUrl, clientId: s.agentId, clientKey: privateKey, evidence: agent.evidence });
      s.jkt = await s.agent.jkt();
      say('owner', `${String(s.alice.id)}  Alice (approver)`);
      say('owner', `${String(s.bob.id)}  Bob`);
      say('agent', `${s.agentId}  triage-bot, policy ${agent.policy}, key ES256 (private_key_jwt)`);
      say('admin token', `${String(token.id)} for Alice: mandates:read, mandates:decide, mandates:revoke`);
    },
  };
}

/** The loop after a successful attestation: ask, approve, collect, call, revoke, refusals, audit. */
export function mandateSteps(stage: DemoStage, io: Io, s: DemoState): Step[] {
  const say = sayTo(io);
  const trail = async () => (await s.approver.get(`/admin/v1/mandates/${s.mandateId}`)).audit as Wire[];
  return [
    {
      title: 'The agent asks Alice for a mandate (SDK: /bc-authorize, OpenID CIBA)',
      async run() {
        const notAfter = new Date(Date.now() + 3600_000);
        const task = { purpose: 'Triage the open issues of acme/agent', audience: stage.resource.url, actions: ['issues:read'], notAfter };
        s.authReqId = (await s.agent.ask({ loginHint: s.alice.id as string, bindingMessage: 'triage-bot wants to read acme/agent issues', task, attestation: s.attestation })).authReqId;
        const pending = (await s.approver.get(`/admin/v1/mandates?status=pending&approver=${String(s.alice.id)}`)).mandates as Wire[];
        expect(pending.length === 1, `Alice sees ${pending.length} pending mandates, expected 1`);
        const mandate = pending[0]!;
        const asked = (mandate.authorization_details as Wire[])[0]!;
        s.mandateId = mandate.id as string;
        say('mandate', `${s.mandateId}  ${String(mandate.status)}  (Alice's inbox: mandate list --status pending)`);
        say('purpose', String(asked.purpose));
        say('audience', String((asked.locations as string[])[0]));
        say('actions', (asked.actions as string[]).join(', '));
        say('notAfter', notAfter.toISOString());
        say('binding', String(mandate.binding_message));
        say('task_s256', String(mandate.task_s256));
      },
    },
    {
      title: 'Alice approves with her own admin token (admin API; recorded as method admin_token)',
      async run() {
        const approved = await s.approver.post(`/admin/v1/mandates/${s.mandateId}/approve`);
        const approval = approved.approval as Wire | null;
        expect(approved.status === 'approved' && approval !== null && approval.approved_by === s.alice.id, `mandate is ${String(approved.status)} after approval`);
        say('approval', `${String(approval.approved_by)} at ${String(approval.approved_at)}, method ${String(approval.method)}`);
      },
    },
    {
      title: 'The agent collects its token (SDK: /token, CIBA grant, DPoP-bound)',
      async run() {
        const approved = await s.agent.waitForApproval(s.authReqId, { timeoutMs: 30_000 });
        const claims = decodeToken(approved.accessToken).claims;
        const details = (claims.authorization_details as Wire[])[0]!;
        const delegation = details.delegation as Wire;
        expect(claims.sub === s.alice.id, 'sub is not Alice');
        expect((claims.act as Wire | undefined)?.sub === s.agentId, 'act.sub is not the agent');
        expect(claims.aud === stage.resource.url, 'aud is not the resource server');
        expect((claims.cnf as Wire).jkt === s.jkt, 'cnf.jkt is not the agent\'s DPoP key');
        expect(delegation.id === s.mandateId && delegation.method === 'admin_token', 'the delegation does not name the approved mandate');
        io.out('   access token claims (decoded here; the resource server verifies them):\n');
        const shown = { sub: claims.sub, act: claims.act, aud: claims.aud, cnf: claims.cnf, delegation, attestation: claims[ATTESTATION_CLAIM], exp: claims.exp };
        for (const line of formatFields(shown, Date.now(), '     ')) io.out(`${printable(line)}\n`);
        say('grant', 'mandate grant kept by the agent to renew (with fresh evidence each time)');
      },
    },
    {
      title: 'The agent calls the resource server (SDK: DPoP fetch)',
      async run() {
        const response = await s.agent.fetch(`${stage.resource.url}/issues`);
        const body = (await response.json()) as Wire;
        expect(response.status === 200, `status ${response.status}: ${JSON.stringify(body)}`);
        say('accepted', `200: ${String(body.agent)} acting for ${String(body.subject)}, "${String(body.purpose)}"`);
      },
    },
    {
      title: 'Alice revokes the mandate (admin API)',
      async run() {
        const revoked = await s.approver.post(`/admin/v1/mandates/${s.mandateId}/revoke`, { reason: 'demo: task finished' });
        expect(revoked.status === 'revoked', `mandate is ${String(revoked.status)}`);
        say('revoked', `${s.mandateId}, reason "${String(revoked.end_reason)}"`);
      },
    },
    {
      title: 'The agent calls again with the same token',
      async run() {
        const response = await s.agent.fetch(`${stage.resource.url}/issues`);
        const body = (await response.json()) as Wire;
        expect(response.status === 401 && body.error === 'invalid_token', `expected 401 invalid_token, got ${response.status} ${JSON.stringify(body)}`);
        say('refused', `401 ${String(body.error)}: ${String(body.error_description)}`);
        const token = (await s.agent.getToken(stage.resource.url)).accessToken;
        const active = await introspect(stage, token);
        expect(active === false, `introspection says active: ${String(active)}`);
        say('introspection', 'active: false (asked with the resource server\'s own credential)');
      },
    },
    {
      title: 'The agent tries to mint a new token (SDK: token exchange with fresh evidence)',
      async run() {
        const error = await s.agent.mint({ resource: stage.resource.url }).then(() => null, (e: unknown) => e);
        expect(error !== null, 'a token was minted for a revoked mandate');
        expect(error instanceof OAuthResponseError && error.mandateError === 'mandate_revoked', `expected mandate_error mandate_revoked, got ${describeError(error)}`);
        say('refused', `${error.status} ${error.oauthError}, mandate_error ${error.mandateError}`);
      },
    },
    {
      title: `The mandate's audit trail (admin API: mandate show)`,
      async run() {
        const events = await trail();
        const types = events.map((e) => e.type);
        for (const type of ['mandate.requested', 'mandate.approved', 'token.issued', 'mandate.revoked'])
          expect(types.includes(type), `the trail has no ${type} event`);
        printAuditTrail({ out: (line) => io.out(`   ${line}`), err: io.err }, events, { short: true });
      },
    },
    {
      title: 'Verify the audit log (hash chain, signed head, external checkpoint: as mandate audit verify)',
      async run() {
        const { store, config } = stage.app;
        const report = await verifyAudit({ sink: store.audit, keys: await verificationKeysFromStore(store.keys), checkpointFile: config.audit.checkpointFile, hashing: nodeChainHashing });
        expect(report.ok, report.faults.map((f) => `${f.code} ${f.message}`).join('; '));
        for (const chain of report.chains) say('chain', `${chain.chain}: ${chain.events} events, last seq ${chain.lastSeq}, checkpoint seq ${chain.checkpointSeq ?? 'none'}`);
        say('verified', 'every event links to the one before, the head is signed, the checkpoint matches');
      },
    },
  ];
}

/** RFC 7662, as the resource server: `client_secret_basic` with its audience and secret. */
async function introspect(stage: DemoStage, token: string): Promise<unknown> {
  const basic = Buffer.from(`${encodeURIComponent(stage.resource.url)}:${encodeURIComponent(stage.resource.clientSecret)}`).toString('base64');
  const response = await fetch(`${stage.brokerUrl}/introspect`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
  });
  return ((await response.json()) as Wire).active;
}
