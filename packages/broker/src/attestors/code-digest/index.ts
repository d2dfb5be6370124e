import { z } from 'zod';
import type { Attestor } from '../../ports/attestor.ts';
import { verifyCodeDigest } from './verify.ts';

/** The sha256 of the artifact the agent says it runs: a claim, not a measurement (PROTOCOL §3). */
export const id = 'code-digest';

export const configSchema = z.strictObject({}).describe('Attestor code-digest: the agent\'s own claim of what it runs; no settings.');

export type CodeDigestConfig = z.output<typeof configSchema>;

/**
 * @example
 * const attestor = create({});
 * await attestor.verify({ digest: 'sha256:…' }, binding); // status 'warning' until a policy equality affirms it
 */
export function create(_config: CodeDigestConfig): Attestor {
  return { id, verify: async (evidence) => verifyCodeDigest(evidence) };
}
