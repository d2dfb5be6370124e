import type { ConsoleAuth } from '../services/console-auth.ts';
import type { ConsoleOidc } from '../services/console-oidc.ts';
import type { PasskeyApproval } from '../services/passkey-approval.ts';
import type { PasskeyService } from '../services/passkeys.ts';
import type { ResumeService } from '../services/resume.ts';

/** The console's own services, built by the composition root. */
export interface ConsoleServices {
  auth: ConsoleAuth;
  passkeys: PasskeyService;
  approval: PasskeyApproval;
  resume: ResumeService;
  /** Null unless `console.oidc` is configured. */
  oidc: ConsoleOidc | null;
  origin: string;
  rpId: string;
}
