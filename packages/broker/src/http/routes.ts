import { agentRoutes } from './admin/agents.ts';
import { auditRoutes } from './admin/audit.ts';
import { exportRoutes } from './admin/exports.ts';
import { findingRoutes } from './admin/findings.ts';
import { humanRoutes } from './admin/humans.ts';
import { keyRoutes } from './admin/keys.ts';
import { lifecycleRoutes } from './admin/lifecycle.ts';
import { mandateRoutes } from './admin/mandates.ts';
import { notificationRoutes } from './admin/notifications.ts';
import { reviewRoutes } from './admin/reviews.ts';
import { tokenRoutes } from './admin/tokens.ts';
import { attestRoutes } from './oauth/attest.ts';
import { keyEnrolmentRoutes } from './oauth/key-enrolment.ts';
import { backchannelRoutes } from './oauth/bc-authorize.ts';
import { discoveryRoutes } from './oauth/discovery.ts';
import { introspectionRoutes } from './oauth/introspect-revoke.ts';
import { statusListRoutes } from './oauth/status-lists.ts';
import { ssfControlRoutes } from './ssf/stream-control.ts';
import { ssfStreamRoutes } from './ssf/streams.ts';
import { tokenEndpointRoutes } from './oauth/token.ts';
import type { RouteSpec } from './route-spec.ts';

/** The one route table: the server registers exactly these, and tests walk them. */
export const ROUTES: readonly RouteSpec[] = [
  ...discoveryRoutes,
  ...attestRoutes,
  ...keyEnrolmentRoutes,
  ...backchannelRoutes,
  ...tokenEndpointRoutes,
  ...introspectionRoutes,
  ...statusListRoutes,
  ...ssfStreamRoutes,
  ...ssfControlRoutes,
  ...humanRoutes,
  ...agentRoutes,
  ...tokenRoutes,
  ...keyRoutes,
  ...mandateRoutes,
  ...reviewRoutes,
  ...notificationRoutes,
  ...auditRoutes,
  ...findingRoutes,
  ...lifecycleRoutes,
  ...exportRoutes,
];

/** Whether a concrete path matches a route path with `:param` segments. */
export function matchesPath(pattern: string, path: string): boolean {
  const want = pattern.split('/');
  const got = path.split('/');
  return want.length === got.length && want.every((segment, i) => segment.startsWith(':') ? got[i] !== '' : segment === got[i]);
}

/** Methods served at `path` (HEAD comes with GET), for 405 and `Allow`. */
export function methodsAt(routes: readonly RouteSpec[], path: string): string[] {
  const methods = routes.filter((route) => matchesPath(route.path, path)).map((route) => route.method);
  return [...new Set(methods.flatMap((method) => (method === 'GET' ? ['GET', 'HEAD'] : [method])))];
}
