import { z } from 'zod';
import { DURATION_PATTERN, parseDuration } from '../core/duration.ts';

/** Config helpers shared by the attestors' schemas (same conventions as config/schema.ts). */
export const durationSetting = (fallback: string, description: string) =>
  z
    .string()
    .regex(DURATION_PATTERN, 'expected a duration such as 30s, 5m, 24h')
    .default(fallback)
    .transform(parseDuration)
    .describe(description);

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** An https URL; plain http only on loopback (local issuers in tests and development). */
export const fetchableUrl = (description: string) =>
  z
    .url({ protocol: /^https?$/ })
    .refine((value) => URL.canParse(value) && (value.startsWith('https://') || LOOPBACK.has(new URL(value).hostname)), 'must be https (http only on loopback)')
    .describe(description);
