import { CREDENTIAL_KIND_TITLES, CREDENTIAL_KINDS, type ScanFinding } from '../core/finding.ts';
import type { ScanReport } from './index.ts';

const HELP = 'Replace the borrowed human credential with a Mandate: register the agent, let the person approve one task for one audience, and have the agent mint short-lived, DPoP-bound tokens (`mandate scan --report` opens a finding to convert).';

/** One rule per credential kind, in CREDENTIAL_KINDS order (results point at them by index). */
function rules() {
  return CREDENTIAL_KINDS.map((kind) => ({
    id: kind,
    name: kind.replace(/(^|_)(\w)/g, (_, __, c: string) => c.toUpperCase()),
    shortDescription: { text: `Borrowed human credential: ${CREDENTIAL_KIND_TITLES[kind]}` },
    fullDescription: { text: `${CREDENTIAL_KIND_TITLES[kind]}: it acts as the person it was issued to, so an agent holding it borrows that person's identity.` },
    help: { text: HELP },
    defaultConfiguration: { level: 'error' },
    properties: { tags: ['security', 'secret', 'non-human-identity'], 'security-severity': '8.0' },
  }));
}

/** SARIF 2.1.0 §3.28 (location): a file region, or a logical location for an environment variable. */
function location(finding: ScanFinding) {
  if (finding.file.startsWith('env:')) return { logicalLocations: [{ name: finding.file.slice(4), kind: 'variable' }] };
  return { physicalLocation: { artifactLocation: { uri: finding.file.split('/').map(encodeURIComponent).join('/'), uriBaseId: '%SRCROOT%' }, region: { startLine: finding.line } } };
}

function result(finding: ScanFinding) {
  return {
    ruleId: finding.kind,
    ruleIndex: CREDENTIAL_KINDS.indexOf(finding.kind),
    level: 'error',
    message: { text: finding.ownerGuess ? `${finding.reason} Likely owner: ${finding.ownerGuess}.` : finding.reason },
    locations: [location(finding)],
    // §3.27.17: stable across runs and line moves; the secret's hash, never the secret.
    partialFingerprints: { 'secretFingerprint/v1': finding.fingerprint },
    properties: { service: finding.service, fingerprint: finding.fingerprint, ownerGuess: finding.ownerGuess },
  };
}

/** `--format sarif`: SARIF 2.1.0 for code-scanning tools (GitHub code scanning accepts it as is). */
export function formatSarif(report: ScanReport, version: string): string {
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: { driver: { name: 'mandate-scan', version, rules: rules() } },
      results: report.findings.map(result),
      properties: { filesScanned: report.filesScanned, filesSkipped: report.filesSkipped },
    }],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
