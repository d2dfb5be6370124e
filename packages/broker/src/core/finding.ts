/**
 * A borrowed human credential found by the scanner (`mandate scan`). The secret itself never
 * appears here: only its fingerprint, so a finding can be stored, shown and deduplicated safely.
 */
export const CREDENTIAL_KINDS = [
  'github_classic_pat',
  'github_fine_grained_pat',
  'gitlab_pat',
  'slack_user_token',
  'aws_access_key',
  'google_refresh_token',
  'google_client_secret',
  'openai_api_key',
  'anthropic_api_key',
  'human_jwt',
] as const;

export type CredentialKind = (typeof CREDENTIAL_KINDS)[number];

export interface ScanFinding {
  kind: CredentialKind;
  /** The provider's API base, e.g. 'https://api.github.com': the audience a mandate would propose. */
  service: string;
  /** Path relative to the scan root, or 'env:<VAR>' for an environment variable. */
  file: string;
  /** 1-based line; 0 for an environment variable. */
  line: number;
  /** 'sha256:' + base64url(SHA-256(secret)). */
  fingerprint: string;
  /** An email or other hint at whose credential it is, when derivable; else null. */
  ownerGuess: string | null;
  /** One sentence: why this is a borrowed human credential. */
  reason: string;
}

export function isCredentialKind(value: unknown): value is CredentialKind {
  return typeof value === 'string' && (CREDENTIAL_KINDS as readonly string[]).includes(value);
}

/** What each kind is, for people: table legends, SARIF rule descriptions, docs. */
export const CREDENTIAL_KIND_TITLES: Readonly<Record<CredentialKind, string>> = {
  github_classic_pat: 'GitHub personal access token (classic)',
  github_fine_grained_pat: 'GitHub fine-grained personal access token',
  gitlab_pat: 'GitLab personal access token',
  slack_user_token: 'Slack user token',
  aws_access_key: 'AWS IAM user access key',
  google_refresh_token: 'Google OAuth refresh token',
  google_client_secret: 'Google OAuth client secret',
  openai_api_key: 'OpenAI user or project API key',
  anthropic_api_key: 'Anthropic API key',
  human_jwt: 'JWT whose subject is a human',
};
