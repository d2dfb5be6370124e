/**
 * Converting a finding (a borrowed human credential) into what replaces it: a proposed agent
 * registration, a draft `agent-task` (RFC 9396) the new agent then asks for over the normal CIBA
 * flow (PROTOCOL §4: the human approves as for any other request; conversion is no second
 * approval path), and a remediation checklist. Pure: everything it needs is passed in.
 */
import { CREDENTIAL_KIND_TITLES, isCredentialKind } from './finding.ts';

export interface ConvertibleFinding {
  id: string;
  kind: string;
  service: string;
  file: string;
  line: number;
}

export interface ConversionChoice {
  agentName: string;
  /** The human whose credential it was (`usr_…`): the agent's owner and the task's approver. */
  owner: string;
  /** How the owner was found: matched from the scanner's owner guess, or named by the converting admin. */
  ownerSource: 'owner_guess' | 'named';
  purpose: string;
  actions: string[];
  /** Whether `service` is a registered audience in the broker config. */
  audienceConfigured: boolean;
  /** The attestation policy to propose, when the config makes the choice obvious. */
  policy: string | null;
}

export interface ChecklistItem {
  step: 'revoke_at_provider' | 'remove_from_source' | 'configure_audience' | 'register_agent' | 'ask_with_sdk' | 'confirm_unused';
  title: string;
  detail: string;
  url?: string;
}

/** The proposal, stored with the finding and returned on the wire as is (snake_case). */
export interface ConversionProposal {
  finding_id: string;
  agent: { name: string; kind: 'ai_agent'; owners: string[]; approvers: string[]; policy: string | null };
  task: { type: 'agent-task'; purpose: string; locations: [string]; actions: string[] };
  login_hint: string;
  owner_source: ConversionChoice['ownerSource'];
  audience_configured: boolean;
  checklist: ChecklistItem[];
}

/** Where the human revokes each kind; a function of the service for self-hosted providers. */
type RevokeUrl = (service: string) => string | undefined;

const origin = (service: string) => {
  try {
    return new URL(service).origin;
  } catch {
    return undefined;
  }
};

const REVOKE_URLS: Record<string, RevokeUrl> = {
  github_classic_pat: () => 'https://github.com/settings/tokens',
  github_fine_grained_pat: () => 'https://github.com/settings/personal-access-tokens',
  gitlab_pat: (s) => `${origin(s) ?? 'https://gitlab.com'}/-/user_settings/personal_access_tokens`,
  slack_user_token: () => 'https://api.slack.com/apps',
  aws_access_key: () => 'https://console.aws.amazon.com/iam/home#/security_credentials',
  google_refresh_token: () => 'https://myaccount.google.com/permissions',
  google_client_secret: () => 'https://console.cloud.google.com/apis/credentials',
  openai_api_key: () => 'https://platform.openai.com/api-keys',
  anthropic_api_key: () => 'https://console.anthropic.com/settings/keys',
  human_jwt: () => undefined,
};

export function credentialLabel(kind: string): string {
  return isCredentialKind(kind) ? CREDENTIAL_KIND_TITLES[kind] : `credential (${kind})`;
}

/** Where the finding sits, in words: `agents/bot/.env line 3` or `environment variable GITHUB_TOKEN`. */
export function findingLocation(finding: Pick<ConvertibleFinding, 'file' | 'line'>): string {
  return finding.file.startsWith('env:') ? `environment variable ${finding.file.slice(4)}` : `${finding.file} line ${finding.line}`;
}

/** The purpose proposed when the admin names none: what the agent did with the borrowed credential. */
export function defaultPurpose(finding: ConvertibleFinding): string {
  return `Call ${finding.service} for the work the borrowed ${credentialLabel(finding.kind)} (${findingLocation(finding)}) was used for`;
}

export function proposeConversion(finding: ConvertibleFinding, choice: ConversionChoice): ConversionProposal {
  return {
    finding_id: finding.id,
    agent: { name: choice.agentName, kind: 'ai_agent', owners: [choice.owner], approvers: [choice.owner], policy: choice.policy },
    task: { type: 'agent-task', purpose: choice.purpose, locations: [finding.service], actions: choice.actions },
    login_hint: choice.owner,
    owner_source: choice.ownerSource,
    audience_configured: choice.audienceConfigured,
    checklist: remediationChecklist(finding, choice),
  };
}

/** The steps that retire the borrowed credential, in the order they should be done. */
export function remediationChecklist(finding: ConvertibleFinding, choice: ConversionChoice): ChecklistItem[] {
  const label = credentialLabel(finding.kind);
  const url = REVOKE_URLS[finding.kind]?.(finding.service);
  const items: ChecklistItem[] = [
    {
      step: 'revoke_at_provider',
      title: `Revoke the ${label} at the provider`,
      detail: `It acts as ${choice.owner} wherever it reaches and any copy keeps working until it is revoked; ` +
        `the finding's fingerprint (SHA-256) identifies which one${url ? '' : '; ask the issuer of the token to end the session and rotate what minted it'}.`,
      ...(url ? { url } : {}),
    },
    removeStep(finding),
  ];
  if (!choice.audienceConfigured)
    items.push({
      step: 'configure_audience',
      title: `Register ${finding.service} as an audience`,
      detail: `Add it under "audiences" in the broker config with the actions ${choice.actions.join(', ')}, and put a resource server or gateway that verifies Mandate tokens (SDK verifier) in front of it; until then /bc-authorize answers invalid_target.`,
    });
  items.push(
    {
      step: 'register_agent',
      title: `Register the agent ${choice.agentName}`,
      detail: `mandate agent add --name ${choice.agentName} --owner ${choice.owner} --policy ${choice.policy ?? '<policy>'} --jwk <the agent's public key>: the agent gets its own key and identity instead of the human's credential.`,
    },
    {
      step: 'ask_with_sdk',
      title: 'Replace the credential in the agent by the Mandate SDK',
      detail: `The agent asks for the draft task over CIBA (login_hint ${choice.owner}, audience ${finding.service}); ${choice.owner} approves it like any other request and the agent receives short-lived DPoP-bound tokens instead.`,
    },
    {
      step: 'confirm_unused',
      title: 'Confirm the old credential is gone',
      detail: 'Check the provider\'s audit log for further use until it is revoked, then scan again (mandate scan --report): the finding must not come back.',
    },
  );
  return items;
}

function removeStep(finding: ConvertibleFinding): ChecklistItem {
  if (finding.file.startsWith('env:'))
    return {
      step: 'remove_from_source',
      title: `Unset ${finding.file.slice(4)} in the agent's environment`,
      detail: 'Remove it wherever that environment is defined (deployment manifests, CI secrets, shell profiles, .env files).',
    };
  return {
    step: 'remove_from_source',
    title: `Delete the secret from ${findingLocation(finding)}`,
    detail: 'Remove it from the file and, if the file is under version control, from the history too: every clone keeps a copy.',
  };
}
