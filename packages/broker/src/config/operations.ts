import { z } from 'zod';

/**
 * `metrics.*` (docs/operations.md). The scrape endpoint stays on the broker's own listener, which
 * binds to loopback unless an https issuer is configured; a bearer token protects it beyond that.
 */
export const metricsConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Serve GET /metrics (Prometheus text format).'),
    bearerToken: z
      .string()
      .min(16, 'must be at least 16 characters')
      .optional()
      .describe('When set, /metrics requires `Authorization: Bearer <token>`. Set it through the environment, not the config file.'),
  })
  .prefault({})
  .describe('Prometheus metrics.');
