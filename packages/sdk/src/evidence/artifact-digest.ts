import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { ConfigurationError } from '../errors.ts';

/** `sha256:` followed by 64 lowercase hex digits: the spelling the broker's attestors compare. */
export type ArtifactDigest = `sha256:${string}`;

/**
 * SHA-256 of a file, streamed (an image or a bundled binary may be large), as `sha256:<hex>`:
 * the `digest` of `code-digest` evidence and the `artifactDigest` of `sigstore` evidence. Digest
 * what actually runs: `process.argv[1]` is the entry script of a Node process, which is the whole
 * program only when it is a single bundled file.
 *
 * @example
 * ```ts
 * const digest = await digestArtifact(process.argv[1]!);
 * const evidence = [{ attestor: 'code-digest', evidence: { digest } }];
 * ```
 */
export async function digestArtifact(path: string): Promise<ArtifactDigest> {
  if (typeof path !== 'string' || path === '') throw new ConfigurationError('digestArtifact needs the path of the artifact file');
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  } catch (cause) {
    throw new ConfigurationError(`cannot read the artifact ${path}`, { cause });
  }
  return `sha256:${hash.digest('hex')}`;
}
