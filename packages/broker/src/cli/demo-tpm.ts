import { randomUUID } from 'node:crypto';
import { activateCredential, obtainTpmQuote, type TpmEvent, type TpmQuoteEvidence } from '@mandate/sdk/evidence';
import { BROKER_PATH, CLIENT_ASSERTION_TYPE } from '@mandate/sdk/protocol';
import { SignJWT, type CryptoKey } from 'jose';
import { imaTemplateHash } from '../attestors/tpm-quote/event-log.ts';
import { requireSwtpmTools, startSwtpm, type Swtpm, type SwtpmAk, type SwtpmEk } from '../attestors/tpm-quote/swtpm-harness.ts';

/** The file IMA measures when the agent starts: its event's digest is tpm-quote's `digest` claim. */
export const AGENT_FILE = '/opt/triage-bot/triage-bot.js';

/** A software TPM (swtpm) standing in for the host's: EK certificate from its own CA, one AK, an IMA-style log of PCR 10. */
export interface DemoTpm {
  tcti: string;
  /** PEM of the CA that issued the EK certificate: tpm-quote's `ekCaFile`. */
  caFile: string;
  /** AK enrolment over HTTP by credential activation (PROTOCOL §3); returns the AK's TPM name. */
  enrol(agent: { brokerUrl: string; agentId: string; key: CryptoKey }): Promise<string>;
  /** What IMA does when the agent file is executed: extend PCR 10 with its event and log it. */
  measure(fileDigest: string): Promise<void>;
  /** A quote of PCR 10 with extraData = SHA-256(nonce ‖ jkt), and the event log. */
  quote(nonce: string, jkt: string): Promise<TpmQuoteEvidence>;
  stop(): Promise<void>;
}

/**
 * Starts swtpm with an EK and an AK, or says why not: the demo must also run where swtpm and
 * tpm2-tools are not installed.
 *
 * @example
 * const tpm = await startDemoTpm();
 * if (typeof tpm === 'string') console.log(`tpm-quote skipped: ${tpm}`);
 */
export async function startDemoTpm(): Promise<DemoTpm | string> {
  try {
    requireSwtpmTools();
  } catch {
    return 'swtpm, swtpm-tools and tpm2-tools are not installed';
  }
  const tpm = await startSwtpm();
  try {
    const ek = await tpm.createEk();
    return wrap(tpm, ek, await tpm.createAk(ek));
  } catch (error) {
    await tpm.stop();
    throw error;
  }
}

function wrap(tpm: Swtpm, ek: SwtpmEk, ak: SwtpmAk): DemoTpm {
  const eventLog: TpmEvent[] = [];
  return {
    tcti: tpm.tcti,
    caFile: tpm.caFile,
    enrol: (agent) => enrol(tpm, ek, ak, agent),
    async measure(fileDigest) {
      const event: TpmEvent = { pcr: 10, template: 'ima-ng', fileDigest, name: AGENT_FILE };
      await tpm.pcrExtend(10, imaTemplateHash(event));
      eventLog.push(event);
    },
    // A raw swtpm socket has no resource manager: transient objects are flushed after each command.
    quote: (nonce, jkt) => obtainTpmQuote({ tcti: tpm.tcti, akContext: ak.context, nonce, jkt, eventLog: [...eventLog], flushTransient: true }),
    stop: () => tpm.stop(),
  };
}

/** Enrol (AK, EK and its certificate), activate the credential in the TPM (SDK helper), send the secret back. */
async function enrol(tpm: Swtpm, ek: SwtpmEk, ak: SwtpmAk, agent: { brokerUrl: string; agentId: string; key: CryptoKey }): Promise<string> {
  const begun = await post(agent, BROKER_PATH.tpmEnrol, {
    ak_public: ak.publicArea.toString('base64'), ek_public: ek.publicArea.toString('base64'), ek_certificate: ek.certificate.toString('base64'),
  });
  const secret = await activateCredential({ tcti: tpm.tcti, akContext: ak.context, ekContext: ek.context, credential: String(begun.credential), flushTransient: true });
  const done = await post(agent, BROKER_PATH.tpmActivate, { enrolment: begun.enrolment, secret });
  return String(done.ak_name);
}

/** A JSON request authenticated by private_key_jwt (RFC 7523 §2.2), as the enrolment endpoints require. */
async function post(agent: { brokerUrl: string; agentId: string; key: CryptoKey }, path: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const now = Math.floor(Date.now() / 1000);
  const assertion = await new SignJWT({ iss: agent.agentId, sub: agent.agentId, aud: agent.brokerUrl, iat: now, exp: now + 60, jti: randomUUID() })
    .setProtectedHeader({ alg: 'ES256' })
    .sign(agent.key);
  const auth = { client_id: agent.agentId, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion };
  const response = await fetch(`${agent.brokerUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...auth, ...body }) });
  const answer = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${path}: ${response.status} ${String(answer.error)}: ${String(answer.error_description)}`);
  return answer;
}
