/**
 * Test harness (no node:test imports): a real software TPM (swtpm) with an EK certificate from a
 * throw-away local CA, and the tpm2-tools commands the tests need, returning their binary outputs.
 * Needs the Debian packages swtpm, swtpm-tools and tpm2-tools (scripts/setup.sh); without them
 * `startSwtpm` throws, so the tests fail instead of skipping.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTpmTools } from './swtpm-tools.ts';

const run = promisify(execFile);
const TOOLS = ['swtpm', 'swtpm_setup', 'swtpm_localca', 'tpm2_createek', 'tpm2_createak', 'tpm2_quote', 'tpm2_activatecredential', 'tpm2_flushcontext'];

export interface SwtpmEk {
  context: string;
  /** TPM2B_PUBLIC, as `tpm2_createek -u` writes it. */
  publicArea: Buffer;
  /** DER, from NV index 0x01c00002 (TCG EK Credential Profile, RSA 2048). */
  certificate: Buffer;
}

export interface SwtpmAk {
  context: string;
  /** TPM2B_PUBLIC, as `tpm2_createak -u` writes it. */
  publicArea: Buffer;
  name: Buffer;
}

export interface SwtpmQuote {
  /** TPMS_ATTEST (`tpm2_quote -m`). */
  quote: Buffer;
  /** TPMT_SIGNATURE (`tpm2_quote -s`). */
  signature: Buffer;
  /** SHA-256 PCR values by index, lower-case hex, as tpm2_quote read them. */
  pcrs: Record<string, string>;
}

export interface TpmTools {
  /** Runs one tpm2-tools command, then flushes transient objects (a raw swtpm has no resource manager). */
  tool(name: string, args: string[]): Promise<string>;
  createEk(): Promise<SwtpmEk>;
  createAk(ek: SwtpmEk): Promise<SwtpmAk>;
  quote(ak: SwtpmAk, extraData: Buffer, selection?: string): Promise<SwtpmQuote>;
  pcrExtend(pcr: number, digest: Buffer): Promise<void>;
  pcrRead(selection: string): Promise<Record<string, string>>;
  readPublic(context: string, format: 'tpmt' | 'tss'): Promise<Buffer>;
  /** tpm2_activatecredential with the EK's policy session; rejects when the TPM refuses. */
  activateCredential(ak: SwtpmAk, ek: SwtpmEk, credentialFile: Buffer): Promise<Buffer>;
  /** TPM2_Hash + TPM2_Sign with the AK: a restricted key signs data that does not start with TPM_GENERATED_VALUE. */
  signWithTicket(ak: SwtpmAk, data: Buffer): Promise<Buffer>;
  /** TPM2_GetTime: a TPMS_ATTEST of type TPM_ST_ATTEST_TIME signed by the AK. */
  getTime(ak: SwtpmAk, extraData: Buffer): Promise<{ attest: Buffer; signature: Buffer }>;
}

export interface Swtpm extends TpmTools {
  /** For tpm2-tools: `-T <tcti>` or TPM2TOOLS_TCTI. */
  tcti: string;
  dir: string;
  /** PEM file with the local CA certificates (issuer and root) that signed the EK certificate. */
  caFile: string;
  /** Stops swtpm (by its PID) and deletes the state. */
  stop(): Promise<void>;
}

/** Throws a clear error when swtpm or tpm2-tools are not installed. */
export function requireSwtpmTools(): void {
  const missing = TOOLS.filter((tool) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).error !== undefined);
  if (missing.length > 0) throw new Error(`tpm-quote tests need swtpm, swtpm-tools and tpm2-tools (scripts/setup.sh); missing: ${missing.join(', ')}`);
}

/**
 * Manufactures a TPM state with an RSA EK certificate (its own CA, config files in a temp dir,
 * never the system ones) and starts swtpm on 127.0.0.1.
 *
 * @example
 * const tpm = await startSwtpm();
 * const ek = await tpm.createEk();
 * const ak = await tpm.createAk(ek);
 * const { quote, signature, pcrs } = await tpm.quote(ak, extraData);
 * await tpm.stop();
 */
export async function startSwtpm(): Promise<Swtpm> {
  requireSwtpmTools();
  const dir = await mkdtemp(join(tmpdir(), 'mandate-swtpm-'));
  try {
    const caFile = await manufacture(dir);
    const { child, port } = await launch(dir);
    const tcti = `swtpm:host=127.0.0.1,port=${port}`;
    const stop = async () => {
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve).kill());
      await rm(dir, { recursive: true, force: true });
    };
    return { tcti, dir, caFile, ...createTpmTools(tcti, dir), stop };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function manufacture(dir: string): Promise<string> {
  const ca = join(dir, 'ca');
  await writeFile(join(dir, 'localca.conf'), `statedir = ${ca}\nsigningkey = ${ca}/signkey.pem\nissuercert = ${ca}/issuercert.pem\ncertserial = ${ca}/certserial\n`);
  await writeFile(join(dir, 'localca.options'), '--platform-manufacturer Mandate\n--platform-version 1.0\n--platform-model test\n');
  await writeFile(join(dir, 'setup.conf'), `create_certs_tool = ${onPath('swtpm_localca')}\ncreate_certs_tool_config = ${dir}/localca.conf\ncreate_certs_tool_options = ${dir}/localca.options\nactive_pcr_banks = sha256\n`);
  await Promise.all([mkdir(ca), mkdir(join(dir, 'state'))]);
  await run('swtpm_setup', ['--tpm2', '--tpmstate', join(dir, 'state'), '--create-ek-cert', '--config', join(dir, 'setup.conf'), '--overwrite']);
  const caFile = join(dir, 'ek-ca.pem');
  await writeFile(caFile, (await readFile(join(ca, 'issuercert.pem'), 'utf8')) + (await readFile(join(ca, 'swtpm-localca-rootca-cert.pem'), 'utf8')));
  return caFile;
}

/** swtpm_setup wants the certificate tool as an absolute path. */
function onPath(tool: string): string {
  const found = (process.env.PATH ?? '').split(':').map((dir) => join(dir, tool)).find((path) => existsSync(path));
  if (found === undefined) throw new Error(`${tool} is not on PATH`);
  return found;
}

/** A free pair of ports (server, control); swtpm is retried on another pair if it loses the race. */
async function launch(dir: string): Promise<{ child: ChildProcess; port: number }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePortPair();
    const child = spawn('swtpm', ['socket', '--tpm2', '--tpmstate', `dir=${join(dir, 'state')}`, '--server', `type=tcp,port=${port},bindaddr=127.0.0.1`, '--ctrl', `type=tcp,port=${port + 1},bindaddr=127.0.0.1`, '--flags', 'not-need-init,startup-clear'], { stdio: 'ignore' });
    if (await listening(child, port)) {
      // Should a test run die before stop(), this swtpm (and only it) goes with it.
      process.once('exit', () => child.kill());
      return { child, port };
    }
    child.kill();
  }
  throw new Error('swtpm did not start');
}

async function freePortPair(): Promise<number> {
  for (;;) {
    const port = await bind(0);
    if (port < 65535 && (await bind(port + 1).then(() => true, () => false))) return port;
  }
}

function bind(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const bound = (server.address() as { port: number }).port;
      server.close(() => resolve(bound));
    });
  });
}

async function listening(child: ChildProcess, port: number): Promise<boolean> {
  for (let i = 0; i < 50 && child.exitCode === null; i++) {
    if (await connects(port)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.connect(port, '127.0.0.1');
  });
}
