import type { ConsolePage } from '../route.ts';
import { agentPages } from './agents.ts';
import { approvePages } from './approve.ts';
import { auditPages } from './audit.ts';
import { enrollPages } from './enroll.ts';
import { findingPages } from './findings.ts';
import { inboxPages } from './inbox.ts';
import { mandatePages } from './mandate.ts';
import { resumePages } from './resume.ts';
import { reviewPages } from './reviews.ts';
import { signinPages } from './signin.ts';

/**
 * Every console page, registered by `plugin.ts`. Other page modules add one import and one spread
 * here (additive edits).
 */
export const CONSOLE_PAGES: readonly ConsolePage[] = [
  ...signinPages,
  ...enrollPages,
  ...inboxPages,
  ...approvePages,
  ...resumePages,
  ...reviewPages,
  ...agentPages,
  ...mandatePages,
  ...auditPages,
  ...findingPages,
];
