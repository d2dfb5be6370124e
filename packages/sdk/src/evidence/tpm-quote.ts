/**
 * Agent side of the `tpm-quote` attestor: quotes and credential activation through tpm2-tools
 * (`tpm2_quote`, `tpm2_activatecredential`), which must be installed. Node builtins only.
 *
 * @module
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ConfigurationError, MandateSdkError } from '../errors.ts';

const run = promisify(execFile);
const SELECTION = /^sha256:(?:[0-9]|1[0-9]|2[0-3])(?:,(?:[0-9]|1[0-9]|2[0-3]))*$/;

/** One `ima-ng` measurement of PCR 10, in the form the broker replays (attestors/tpm-quote/README.md). */
export interface TpmEvent {
  pcr: 10;
  template: 'ima-ng';
  /** `sha256:<64 lowercase hex>`. */
  fileDigest: string;
  name: string;
}

/** The `evidence` of `{ attestor: 'tpm-quote', evidence }`. */
export interface TpmQuoteEvidence {
  /** base64 TPMS_ATTEST, as `tpm2_quote -m` writes it. */
  quote: string;
  /** base64 TPMT_SIGNATURE, as `tpm2_quote -s` writes it. */
  signature: string;
  pcrs: { sha256: Record<string, string> };
  eventLog?: TpmEvent[];
}

interface TpmToolOptions {
  /** TCTI, e.g. `device:/dev/tpmrm0` or `swtpm:host=127.0.0.1,port=2321`; default: tpm2-tools' own (TPM2TOOLS_TCTI). */
  tcti?: string;
  /** Flush transient objects after each command: for a TPM without a resource manager, such as a raw swtpm socket. */
  flushTransient?: boolean;
}

export interface TpmQuoteOptions extends TpmToolOptions {
  /** The enrolled AK: a context file or a persistent handle such as `0x81010002`. */
  akContext: string;
  /** The `/challenge` nonce and the DPoP key thumbprint: the quote's extraData is SHA-256(nonce ‖ jkt). */
  nonce: string;
  jkt: string;
  /** SHA-256 PCRs to quote; default `sha256:10` (the IMA PCR). */
  pcrs?: string;
  /** The IMA log that replays to PCR 10, e.g. from `readImaEventLog`. */
  eventLog?: TpmEvent[];
}

/**
 * Quotes the PCRs with the enrolled AK, bound to the challenge (PROTOCOL §3), and returns the
 * evidence for `POST /attest`.
 *
 * @example
 * ```ts
 * const evidence = async ({ nonce, jkt }: EvidenceBinding) => [{
 *   attestor: 'tpm-quote',
 *   evidence: await obtainTpmQuote({ akContext: '0x81010002', nonce, jkt, eventLog: readImaEventLog(await readFile(IMA_LOG, 'utf8')) }),
 * }];
 * ```
 */
export async function obtainTpmQuote(options: TpmQuoteOptions): Promise<TpmQuoteEvidence> {
  const selection = options.pcrs ?? 'sha256:10';
  if (!SELECTION.test(selection)) throw new ConfigurationError('pcrs must be a SHA-256 selection such as sha256:10,16');
  const extraData = createHash('sha256').update(options.nonce, 'utf8').update(options.jkt, 'utf8').digest('hex');
  return withTempDir(async (dir) => {
    const [message, signature, values] = [join(dir, 'quote.msg'), join(dir, 'quote.sig'), join(dir, 'quote.pcrs')];
    // With -o, tpm2_quote also prints the PCR values it quoted; that output is what is reported.
    const stdout = await tool(options, 'tpm2_quote', ['-c', options.akContext, '-l', selection, '-q', extraData, '-m', message, '-s', signature, '-o', values, '-g', 'sha256']);
    const evidence: TpmQuoteEvidence = { quote: (await readFile(message)).toString('base64'), signature: (await readFile(signature)).toString('base64'), pcrs: { sha256: parsePcrs(stdout) } };
    return options.eventLog ? { ...evidence, eventLog: options.eventLog } : evidence;
  });
}

export interface ActivateCredentialOptions extends TpmToolOptions {
  akContext: string;
  /** The EK (context file or persistent handle, e.g. `0x81010001`). */
  ekContext: string;
  /** `credential` from the broker's enrolment challenge: base64 of a tpm2-tools credential file. */
  credential: string;
}

/**
 * The agent's half of AK enrolment: the TPM releases the broker's secret only if the AK named in
 * the credential is loaded beside the EK it was encrypted to. Returns the secret, base64, for the
 * broker to compare.
 *
 * @example
 * ```ts
 * const answer = await activateCredential({ akContext: 'ak.ctx', ekContext: '0x81010001', credential: challenge.credential });
 * ```
 */
export async function activateCredential(options: ActivateCredentialOptions): Promise<string> {
  return withTempDir(async (dir) => {
    const [session, input, output] = [join(dir, 'session.ctx'), join(dir, 'cred.blob'), join(dir, 'cred.out')];
    await writeFile(input, Buffer.from(options.credential, 'base64'));
    // The default EK policy is PolicySecret(TPM_RH_ENDORSEMENT) (TCG EK Credential Profile, template L-1).
    await tool(options, 'tpm2_startauthsession', ['--policy-session', '-S', session]);
    try {
      await tool(options, 'tpm2_policysecret', ['-S', session, '-c', 'e']);
      await tool(options, 'tpm2_activatecredential', ['-c', options.akContext, '-C', options.ekContext, '-i', input, '-o', output, '-P', `session:${session}`]);
      return (await readFile(output)).toString('base64');
    } finally {
      await tool(options, 'tpm2_flushcontext', [session]).catch(() => undefined);
    }
  });
}

/**
 * Reads IMA's `ascii_runtime_measurements_sha256` (lines `10 <template hash> ima-ng sha256:<digest> <path>`)
 * into the event log the broker replays. Only `ima-ng` lines of PCR 10 are accepted.
 *
 * @example
 * ```ts
 * const eventLog = readImaEventLog(await readFile('/sys/kernel/security/ima/ascii_runtime_measurements_sha256', 'utf8'));
 * ```
 */
export function readImaEventLog(text: string): TpmEvent[] {
  return text.split('\n').filter((line) => line.trim() !== '').map((line, i) => {
    const match = /^10 [0-9a-f]{64} ima-ng (sha256:[0-9a-f]{64}) (.+)$/.exec(line);
    if (!match) throw new ConfigurationError(`IMA log line ${i + 1} is not an ima-ng sha256 measurement of PCR 10`);
    return { pcr: 10, template: 'ima-ng', fileDigest: match[1]!, name: match[2]! };
  });
}

async function tool(options: TpmToolOptions, name: string, args: string[]): Promise<string> {
  const env = options.tcti === undefined ? process.env : { ...process.env, TPM2TOOLS_TCTI: options.tcti };
  try {
    return (await run(name, args, { env })).stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new MandateSdkError(`${name} failed${stderr ? `: ${stderr.slice(0, 500)}` : ''}`, { cause: error });
  } finally {
    if (options.flushTransient) await run('tpm2_flushcontext', ['-t'], { env }).catch(() => undefined);
  }
}

/**
 * The `sha256:` block of tpm2_quote / tpm2_pcrread output: `    10: 0x<hex>` lines.
 *
 * @example
 * parsePcrs('  sha256:\n    10: 0xAB…\n'); // { '10': 'ab…' }
 */
export function parsePcrs(stdout: string): Record<string, string> {
  const pcrs: Record<string, string> = {};
  let inBank = false;
  for (const line of stdout.split('\n')) {
    const value = /^\s+(\d+)\s*:\s*0x([0-9A-Fa-f]+)\s*$/.exec(line);
    if (inBank && value) pcrs[value[1]!] = value[2]!.toLowerCase();
    else inBank = /^\s*sha256:\s*$/.test(line);
  }
  return pcrs;
}

async function withTempDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'mandate-tpm-'));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
