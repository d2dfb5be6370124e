import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { BASE62, BASE64, URLSAFE, githubToken, hex, pick, randomFrom, signedJwt } from './secret-corpus.ts';

/** A file that holds no borrowed human credential, and the secret-looking values in it. */
export interface FalseCase {
  path: string;
  text: string;
  secrets: string[];
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Values that look like credentials but are not a person's: each becomes a .env line. */
const LOOKALIKES: Array<() => [string, string]> = [
  // documented example keys (AWS docs) and placeholders
  () => ['AWS_ACCESS_KEY_ID', 'AKIAIOSFODNN7EXAMPLE'],
  () => ['AWS_SECRET_ACCESS_KEY', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'],
  () => ['AWS_ACCESS_KEY_ID', 'AKIAI44QH8DHBEXAMPLE'],
  () => ['AWS_ACCESS_KEY_ID', 'AKIAXXXXXXXXXXXXXXXX'],
  () => ['GITHUB_TOKEN', 'ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'],
  () => ['GITHUB_TOKEN', 'ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX'],
  () => ['GITHUB_TOKEN', '<your-github-token>'],
  () => ['GITHUB_TOKEN', 'github_pat_XXXXXXXXXXXXXXXXXXXXXX_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX'],
  () => ['GITLAB_TOKEN', 'glpat-xxxxxxxxxxxxxxxxxxxx'],
  () => ['GITLAB_TOKEN', 'glpat-your-token-goes-here'],
  () => ['SLACK_TOKEN', 'xoxp-your-slack-user-token'],
  () => ['SLACK_TOKEN', 'xoxp-0000000000-0000000000-0000000000000-00000000000000000000000000000000'],
  () => ['OPENAI_API_KEY', 'sk-your-api-key-here'],
  () => ['OPENAI_API_KEY', 'sk-proj-XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX'],
  () => ['OPENAI_API_KEY', 'sk-...'],
  () => ['ANTHROPIC_API_KEY', 'sk-ant-api03-...'],
  () => ['ANTHROPIC_API_KEY', `sk-ant-api03-${'x'.repeat(93)}AA`],
  () => ['GOOGLE_CLIENT_SECRET', 'GOCSPX-your-client-secret-here-xx'],
  () => ['GOOGLE_REFRESH_TOKEN', '1//0your-refresh-token-goes-here-please-replace'],
  () => ['GITHUB_TOKEN', '${{ secrets.GITHUB_TOKEN }}'],
  // well-formed tokens that are not a person's: apps, bots, service accounts, role sessions
  () => ['GITHUB_TOKEN', githubToken('ghs_')],
  () => ['GITHUB_APP_REFRESH', githubToken('ghr_')],
  () => ['GITHUB_TOKEN', `ghp_${randomFrom(BASE62, 36)}`], // right shape, wrong checksum
  () => ['SLACK_BOT_TOKEN', `xoxb-${randomInt(1e9, 1e10)}-${randomInt(1e12, 1e13)}-${randomFrom(BASE62, 24)}`],
  () => ['SLACK_APP_TOKEN', `xapp-1-A${randomFrom(BASE62, 10)}-${randomInt(1e12, 1e13)}-${hex(64)}`],
  () => ['AWS_ACCESS_KEY_ID', `ASIA${randomFrom(BASE32, 16)}`],
  () => ['OPENAI_API_KEY', `sk-svcacct-${randomFrom(URLSAFE, 74)}T3BlbkFJ${randomFrom(URLSAFE, 74)}`],
  () => ['OPENAI_ADMIN_KEY', `sk-admin-${randomFrom(URLSAFE, 74)}T3BlbkFJ${randomFrom(URLSAFE, 74)}`],
  () => ['STRIPE_KEY', `sk_live_${randomFrom(BASE62, 24)}`],
  // identifiers, digests and blobs
  () => ['REQUEST_ID', randomUUID()],
  () => ['BUILD_SHA', hex(40)],
  () => ['IMAGE_DIGEST', `sha256:${hex(64)}`],
  () => ['INTEGRITY', `sha512-${randomBytes(64).toString('base64')}`],
  () => ['BLOB', randomBytes(randomInt(100, 600)).toString('base64')],
  () => ['BLOB_URL', randomBytes(randomInt(100, 600)).toString('base64url')],
  () => ['SESSION_KEY', randomFrom(BASE64, 40)],
  () => ['DATABASE_URL', `postgres://app:${hex(16)}@db.internal:5432/app`],
  // JWTs whose subject is a workload, a service or a client
  () => ['SVID', signedJwt({ iss: 'https://spire.acme.example', aud: 'https://api.acme.example', sub: 'spiffe://acme.example/ns/prod/sa/agent' })],
  () => ['K8S_TOKEN', signedJwt({ iss: 'https://kubernetes.default.svc', aud: 'https://api.acme.example', sub: 'system:serviceaccount:agents:triage' })],
  () => ['ACTIONS_ID_TOKEN', signedJwt({ iss: 'https://token.actions.githubusercontent.com', aud: 'mandate', sub: 'repo:acme/agent:ref:refs/heads/main' })],
  () => ['M2M_TOKEN', signedJwt({ iss: 'https://acme.eu.auth0.com/', aud: 'https://api.acme.example', sub: `${randomFrom(BASE62, 32)}@clients`, gty: 'client-credentials' })],
  () => ['GCP_ID_TOKEN', signedJwt({ iss: 'https://accounts.google.com', aud: 'https://run.acme.example', sub: String(randomInt(1e12, 1e13)), email: 'agent@acme-prod.iam.gserviceaccount.com' })],
  () => { const id = randomUUID(); return ['CC_TOKEN', signedJwt({ iss: 'https://login.acme.example', aud: 'https://api.acme.example', sub: id, client_id: id, email: 'ops@acme.example' })]; },
  () => ['MANDATE_ACCESS_TOKEN', signedJwt({ iss: 'https://mandate.acme.example', aud: 'https://api.acme.example', sub: `usr_${randomFrom(URLSAFE, 22)}`, act: { sub: `agt_${randomFrom(URLSAFE, 22)}`, sub_profile: 'ai_agent' } })],
  () => ['SERVICE_TOKEN', signedJwt({ iss: 'https://login.acme.example', aud: 'https://api.acme.example', sub: `svc-billing-${hex(6)}` })],
  () => ['OPAQUE_SUB', signedJwt({ iss: 'https://login.acme.example', aud: 'https://api.acme.example', sub: randomUUID() })],
  () => ['UNSIGNED', signedJwt({ iss: 'https://login.acme.example', aud: 'https://api.acme.example', sub: 'dev@acme.example' }, 'none')],
];

/** Whole files with nothing to find: code that reads secrets from the environment, lockfiles, docs. */
const FILES: Array<() => FalseCase> = [
  () => ({ path: 'src/client.ts', text: "export const token = process.env.GITHUB_TOKEN ?? '';\nconst key = process.env['OPENAI_API_KEY'];\n", secrets: [] }),
  () => ({ path: 'agent.py', text: 'import os\nclient = OpenAI(api_key=os.environ["OPENAI_API_KEY"])\nslack = WebClient(token=os.environ["SLACK_BOT_TOKEN"])\n', secrets: [] }),
  () => ({ path: 'package-lock.json', text: `${JSON.stringify({ packages: { 'node_modules/x': { version: '1.0.0', resolved: 'https://registry.npmjs.org/x/-/x-1.0.0.tgz', integrity: `sha512-${randomBytes(64).toString('base64')}` } } }, null, 2)}\n`, secrets: [] }),
  () => ({ path: 'README.md', text: '# Setup\n\nSet `GITHUB_TOKEN=ghp_...` and `OPENAI_API_KEY=sk-...` in `.env`; see AKIAIOSFODNN7EXAMPLE in the AWS docs.\n', secrets: [] }),
  () => ({ path: '.github/workflows/ci.yml', text: 'jobs:\n  test:\n    env:\n      GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}\n      AWS_ROLE_ARN: arn:aws:iam::123456789012:role/ci\n', secrets: [] }),
  () => ({ path: 'go.sum', text: Array.from({ length: 20 }, () => `github.com/acme/${hex(6)} v1.2.3 h1:${randomBytes(32).toString('base64')}`).join('\n'), secrets: [] }),
];

/** About 300 false files: single lookalike lines in agent-style files, and whole benign files. */
export function falseCases(): FalseCase[] {
  const cases: FalseCase[] = [];
  for (let round = 0; round < 5; round++) {
    for (const make of LOOKALIKES) {
      const [name, value] = make();
      const path = pick(['.env', 'config/agent.env', '.env.example', 'settings.ini']);
      cases.push({ path, text: `# ${name}\nLOG_LEVEL=info\n${name}=${value}\nPORT=8080\n`, secrets: [value] });
    }
  }
  for (let round = 0; round < 10; round++) for (const make of FILES) cases.push(make());
  return cases;
}

