/**
 * Benchmark case for `tpm-quote` (no node:test imports). Quotes from swtpm take tens of
 * milliseconds each, so `next()` signs TPMS_ATTEST structures with a software ECDSA P-256 AK
 * (software-ak.ts: byte for byte the format swtpm and tpm2-tools produce). The verification work
 * — signature, extraData binding, PCR digest, a 64-event IMA log replay, the PCR and digest
 * policy — is exactly that of a real quote; the AK lookup is an in-memory map.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Attestor, EvidenceBinding } from '../../ports/attestor.ts';
import { evidenceAudience, evidenceExtraData } from '../../services/challenge.ts';
import { replayEventLog, type ImaEvent } from './event-log.ts';
import { configSchema, create } from './index.ts';
import { createSoftwareAk } from './software-ak.ts';
import { createMemoryReplayCache } from '../memory-replay-cache.ts';

const AGENT_ID = 'agt_BENCHTPMQUOTE0000000';
const CODE_PATH = '/usr/bin/agent';

/**
 * @example
 * const bench = await createBenchCase();
 * const { evidence, binding } = await bench.next();
 * await bench.attestor.verify(evidence, binding);
 * await bench.close();
 */
export async function createBenchCase(): Promise<{ attestor: Attestor; next(): Promise<{ evidence: unknown; binding: EvidenceBinding }>; close(): Promise<void> }> {
  const ak = createSoftwareAk();
  const records = [ak.record(AGENT_ID)];
  const eventLog = imaLog(64);
  const pcr10 = replayEventLog(eventLog).toString('hex');
  const config = configSchema.parse({ pcrs: { '10': [pcr10] }, codeEventName: CODE_PATH, allowedDigests: [eventLog.at(-1)!.fileDigest] });
  const attestor = create(config, { replay: createMemoryReplayCache(), clock: { now: () => Date.now() }, attestationKeys: { get: async (agentId) => (agentId === AGENT_ID ? records : []) } });
  return {
    attestor,
    async next() {
      const nonce = randomBytes(40).toString('base64url');
      const jkt = randomBytes(32).toString('base64url');
      const { quote, signature } = ak.quote(evidenceExtraData(nonce, jkt), { '10': pcr10 });
      const evidence = { quote: quote.toString('base64'), signature: signature.toString('base64'), pcrs: { sha256: { '10': pcr10 } }, eventLog };
      return { evidence, binding: { nonce, jkt, agentId: AGENT_ID, now: Date.now(), expectedAudience: evidenceAudience(nonce, jkt) } };
    },
    close: async () => undefined,
  };
}

/** A boot_aggregate, libraries, and the agent binary last: a typical short IMA runtime log. */
function imaLog(length: number): ImaEvent[] {
  const event = (name: string): ImaEvent => ({ pcr: 10, template: 'ima-ng', fileDigest: `sha256:${createHash('sha256').update(`contents of ${name}`).digest('hex')}`, name });
  return [event('boot_aggregate'), ...Array.from({ length: length - 2 }, (_, i) => event(`/usr/lib/lib${i}.so`)), event(CODE_PATH)];
}

