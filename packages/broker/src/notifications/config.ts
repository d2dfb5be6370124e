import { z } from 'zod';
import { DURATION_PATTERN, parseDuration } from '../core/duration.ts';

/** Config of the notifications (`notifications.*`) and access reviews (`reviews.*`); see docs/notifications.md. */
const duration = (fallback: string, description: string) =>
  z.string().regex(DURATION_PATTERN, 'expected a duration such as 30s, 5m, 24h').default(fallback).transform(parseDuration).describe(description);

/** A duration that may be switched off with `off` (or any zero duration such as `0d`): 0 means off. */
const optionalDuration = (fallback: string, description: string) =>
  z
    .string()
    .regex(new RegExp(`^off$|${DURATION_PATTERN.source}`), 'expected a duration such as 90d, or off')
    .default(fallback)
    .transform((text) => (text === 'off' ? 0 : parseDuration(text)))
    .describe(description);

/** Notification kinds a webhook may subscribe to. */
export const NOTIFICATION_KINDS = ['mandate.requested', 'attestation.contraindicated', 'review.due', 'mandate.suspended', 'lifecycle.flagged', 'passkey.registered'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

const webhook = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9-]{1,64}$/, 'expected lowercase letters, digits and dashes').optional().describe('Name in the delivery log (default webhook-<n>).'),
    url: z
      .url({ protocol: /^https?$/ })
      // The body names humans and mandates: plain http only to a receiver on this machine.
      .refine((url) => url.startsWith('https://') || /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\//.test(url), 'must be https (plain http only for a loopback receiver)')
      .describe('Where notifications are POSTed (JSON); https, or http to a loopback receiver.'),
    secretEnv: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]{0,127}$/, 'expected an environment variable name')
      .describe('Name of the environment variable holding the HMAC secret (≥ 32 characters); the secret never goes in the file.'),
    kinds: z.array(z.enum(NOTIFICATION_KINDS)).min(1).optional().describe('Only these kinds (default all).'),
  })
  .describe('A signed webhook for chat or ticketing integrations.');

export const notificationsConfigSchema = z
  .strictObject({
    webhooks: z.array(webhook).max(16).default([]).describe('Signed webhooks (Mandate-Signature: t=<unix>,v1=<hex HMAC-SHA256>).'),
    maxAttempts: z.number().int().min(1).max(20).default(6).describe('Attempts per webhook delivery before it is given up (failed).'),
    initialBackoff: duration('2m', 'Delay before the second attempt; doubles after each failure, with ±20 % jitter.'),
    maxBackoff: duration('1h', 'Longest delay between two attempts.'),
    timeout: duration('10s', 'How long one attempt waits for the receiver.'),
    heartbeat: duration('25s', 'Interval of the comment lines that keep console event streams open.'),
    maxStreamsPerHuman: z.number().int().min(1).max(50).default(5).describe('Open console event streams per human; the oldest is closed beyond this.'),
  })
  .prefault({})
  .describe('Notifications: console inbox, live console updates (server-sent events), signed webhooks.');

export const reviewsConfigSchema = z
  .strictObject({
    reviewEvery: optionalDuration('90d', 'How often owners certify each active mandate (keep or revoke), counted from its approval; off disables reviews.'),
    gracePeriod: duration('7d', 'How long past its due date an unreviewed mandate stays active before it is suspended (reason review_overdue).'),
    sweepInterval: duration('5m', 'How often `serve` looks for due and overdue reviews.'),
  })
  .prefault({})
  .describe('Access reviews of active mandates.');
