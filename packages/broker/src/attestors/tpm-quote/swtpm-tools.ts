/** tpm2-tools commands on one swtpm, for tests (see swtpm-harness.ts). No node:test imports. */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { SwtpmAk, SwtpmEk, TpmTools } from './swtpm-harness.ts';
// The tpm2-tools output parser is the SDK's: the agent side reads the same output.
import { parsePcrs } from '@mandate/sdk/evidence';

const run = promisify(execFile);
/** TCG EK Credential Profile: the NV index of the RSA 2048 EK certificate. */
const EK_CERT_NV_INDEX = '0x01c00002';

/**
 * @example
 * const tools = createTpmTools('swtpm:host=127.0.0.1,port=2321', dir);
 * const ek = await tools.createEk();
 */
export function createTpmTools(tcti: string, dir: string): TpmTools {
  let counter = 0;
  const file = (name: string) => join(dir, `${++counter}-${name}`);
  const tool = async (name: string, args: string[]) => {
    try {
      const { stdout } = await run(name, args, { env: { ...process.env, TPM2TOOLS_TCTI: tcti } });
      return stdout;
    } finally {
      await run('tpm2_flushcontext', ['-t'], { env: { ...process.env, TPM2TOOLS_TCTI: tcti } });
    }
  };
  return {
    tool,
    async createEk() {
      const [context, pub, cert] = [file('ek.ctx'), file('ek.pub'), file('ek.der')];
      await tool('tpm2_createek', ['-c', context, '-G', 'rsa', '-u', pub]);
      await tool('tpm2_nvread', [EK_CERT_NV_INDEX, '-C', 'o', '-o', cert]);
      return { context, publicArea: await readFile(pub), certificate: await readFile(cert) };
    },
    async createAk(ek) {
      const [context, pub, name] = [file('ak.ctx'), file('ak.pub'), file('ak.name')];
      await tool('tpm2_createak', ['-C', ek.context, '-c', context, '-G', 'ecc', '-g', 'sha256', '-s', 'ecdsa', '-u', pub, '-n', name]);
      return { context, publicArea: await readFile(pub), name: await readFile(name) };
    },
    async quote(ak, extraData, selection = 'sha256:10,16') {
      // With -o (the PCR values as a file), tpm2_quote also prints them: that output is parsed.
      const [message, signature, values] = [file('quote.msg'), file('quote.sig'), file('quote.pcrs')];
      const stdout = await tool('tpm2_quote', ['-c', ak.context, '-l', selection, '-q', extraData.toString('hex'), '-m', message, '-s', signature, '-o', values, '-g', 'sha256']);
      return { quote: await readFile(message), signature: await readFile(signature), pcrs: parsePcrs(stdout) };
    },
    async pcrExtend(pcr, digest) {
      await tool('tpm2_pcrextend', [`${pcr}:sha256=${digest.toString('hex')}`]);
    },
    async pcrRead(selection) {
      return parsePcrs(await tool('tpm2_pcrread', [selection]));
    },
    async readPublic(context, format) {
      const out = file('public');
      await tool('tpm2_readpublic', ['-c', context, '-f', format, '-o', out]);
      return readFile(out);
    },
    async activateCredential(ak, ek, credentialFile) {
      return activate(tool, file, ak, ek, credentialFile);
    },
    async signWithTicket(ak, data) {
      const [input, digest, ticket, signature] = [file('data'), file('digest'), file('ticket'), file('sig')];
      await writeFile(input, data);
      await tool('tpm2_hash', ['-C', 'o', '-g', 'sha256', '-o', digest, '-t', ticket, input]);
      await tool('tpm2_sign', ['-c', ak.context, '-g', 'sha256', '-s', 'ecdsa', '-d', '-t', ticket, '-o', signature, digest]);
      return readFile(signature);
    },
    async getTime(ak, extraData) {
      const [attest, signature] = [file('time.attest'), file('time.sig')];
      await tool('tpm2_gettime', ['-c', ak.context, '-q', extraData.toString('hex'), '--attestation', attest, '-o', signature]);
      return { attest: await readFile(attest), signature: await readFile(signature) };
    },
  };
}

/** The EK's default policy needs PolicySecret(endorsement) (TCG EK Credential Profile, template L-1), hence a policy session. */
async function activate(tool: TpmTools['tool'], file: (name: string) => string, ak: SwtpmAk, ek: SwtpmEk, credentialFile: Buffer): Promise<Buffer> {
  const [session, input, output] = [file('session.ctx'), file('cred.blob'), file('cred.out')];
  await writeFile(input, credentialFile);
  await tool('tpm2_startauthsession', ['--policy-session', '-S', session]);
  try {
    await tool('tpm2_policysecret', ['-S', session, '-c', 'e']);
    await tool('tpm2_activatecredential', ['-c', ak.context, '-C', ek.context, '-i', input, '-o', output, '-P', `session:${session}`]);
    return await readFile(output);
  } finally {
    await tool('tpm2_flushcontext', [session]).catch(() => undefined);
  }
}

