/**
 * When a JWT's subject is a person (docs/scanner.md, "The human-JWT rule"). Decoded claims only:
 * nothing is verified, since the question is whose token it is, not whether it is still valid.
 *
 * 1. Never human: a token with `act` (a delegated token such as Mandate's own: the agent acts for
 *    the human by design), `gty: client-credentials`, or a subject that is a SPIFFE ID, a
 *    Kubernetes service account, a GitHub Actions `repo:` subject, an Auth0 `…@clients` machine,
 *    a service-account email (`*.gserviceaccount.com`), or equal to `client_id` / `azp`.
 * 2. Human: `sub` is an email address; or `sub` is a known human id (`usr_…` of Mandate, an Auth0
 *    user id `<connection>|…`, an Okta user id `00u…`); or the token names a person in an
 *    `email`, `upn`, `preferred_username` or `unique_name` claim that is an email address.
 * 3. Anything else is not flagged.
 */
const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$/;
const SERVICE_EMAIL_DOMAINS = /(?:^|\.)gserviceaccount\.com$|\.svc\.id\.goog$/i;
const MACHINE_SUBJECTS = /^(?:spiffe:\/\/|system:serviceaccount:|repo:)|@clients$/;
const AUTH0_USER = /^(?:auth0|google-oauth2|github|windowslive|apple|linkedin|facebook|twitter|samlp|waad|adfs|oidc|email|sms)\|[^|\s]{1,128}$/;
const OKTA_USER = /^00u[A-Za-z0-9]{17}$/;
const MANDATE_HUMAN = /^usr_[A-Za-z0-9_-]{8,64}$/;
const PERSON_CLAIMS = ['email', 'upn', 'preferred_username', 'unique_name'] as const;

export interface HumanSubject {
  ownerGuess: string | null;
  /** Which part of the rule matched, for the finding's reason. */
  because: string;
}

/** A person's email address (not a service account's). */
export function isPersonEmail(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 254 && EMAIL.test(value) && !SERVICE_EMAIL_DOMAINS.test(value.slice(value.lastIndexOf('@') + 1));
}

function isMachine(claims: Record<string, unknown>, sub: string): boolean {
  if (claims.act !== undefined || claims.gty === 'client-credentials') return true;
  if (MACHINE_SUBJECTS.test(sub) || sub === claims.client_id || sub === claims.azp) return true;
  return EMAIL.test(sub) && !isPersonEmail(sub);
}

function personClaim(claims: Record<string, unknown>): string | null {
  for (const name of PERSON_CLAIMS) if (isPersonEmail(claims[name])) return claims[name] as string;
  return null;
}

export function humanSubjectOf(claims: Record<string, unknown>): HumanSubject | null {
  const sub = claims.sub;
  if (typeof sub !== 'string' || sub.length === 0 || isMachine(claims, sub)) return null;
  const person = personClaim(claims);
  if (isPersonEmail(sub)) return { ownerGuess: sub, because: 'its subject is an email address' };
  if (MANDATE_HUMAN.test(sub) || AUTH0_USER.test(sub) || OKTA_USER.test(sub)) return { ownerGuess: person, because: 'its subject is a known human user id' };
  if (person !== null) return { ownerGuess: person, because: 'it names a person in an email-valued claim' };
  return null;
}
