import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type BrowserContext, type CDPSession, type Page } from 'playwright-core';

/** Debian's Chromium (the project's test setup installs it); override with MANDATE_CHROMIUM. */
export const CHROMIUM_PATH = process.env['MANDATE_CHROMIUM'] ?? '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
];

export interface TestBrowser {
  browser: Browser;
  /** A fresh context (own cookies and storage) at a fixed desktop size. */
  newContext(options?: { width?: number; height?: number }): Promise<BrowserContext>;
  close(): Promise<void>;
}

/**
 * Launches real headless Chromium with a throwaway profile. `close` ends only this browser (its
 * own process, through the protocol), never other Chromium processes.
 */
export async function launchBrowser(): Promise<TestBrowser> {
  // playwright gives every launch a fresh temporary user-data dir and deletes it on close.
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
  return {
    browser,
    newContext: (options = {}) => browser.newContext({ viewport: { width: options.width ?? 1280, height: options.height ?? 860 }, locale: 'en-GB', timezoneId: 'UTC' }),
    close: () => browser.close(),
  };
}

export interface VirtualAuthenticator {
  cdp: CDPSession;
  authenticatorId: string;
  /** Credentials the authenticator holds (passkeys made by enrolment). */
  credentials(): Promise<unknown[]>;
}

/**
 * Chrome DevTools Protocol WebAuthn domain: a platform authenticator with resident keys whose
 * user verification always succeeds, so passkey ceremonies run without a human.
 */
export async function addVirtualAuthenticator(page: Page): Promise<VirtualAuthenticator> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  return {
    cdp, authenticatorId,
    credentials: async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials,
  };
}

export interface AxeViolation {
  id: string;
  impact: string;
  help: string;
  targets: string[];
}

/** axe-core over the whole page (WCAG 2.x A/AA rules); only serious and critical violations are returned. */
export async function checkAccessibility(page: Page): Promise<AxeViolation[]> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact!, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
}

/** Writes a full-page PNG when MANDATE_SCREENSHOTS=1 (`npm run docs:screenshots`); otherwise does nothing. */
export async function screenshot(page: Page, file: string, options: { fullPage?: boolean } = {}): Promise<boolean> {
  if (process.env['MANDATE_SCREENSHOTS'] !== '1') return false;
  mkdirSync(dirname(file), { recursive: true });
  await page.screenshot({ path: file, fullPage: options.fullPage ?? true, animations: 'disabled' });
  return true;
}
