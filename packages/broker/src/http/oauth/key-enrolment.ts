import { BROKER_PATH } from '@mandate/sdk/protocol';
import { z } from 'zod';
import { limitClient } from '../rate-limit.ts';
import { defineRoute, respond, type RouteContext } from '../route-spec.ts';
import { authenticateClient, clientAuthFields, NO_STORE } from './client-steps.ts';

const base64 = (max: number) => z.string().min(1).max(max).regex(/^[A-Za-z0-9+/]+={0,2}$/, 'expected base64');

const enrolBody = z.object({
  ...clientAuthFields,
  ak_public: base64(4096),
  ek_public: base64(4096),
  ek_certificate: base64(8192),
});
const activateBody = z.object({
  ...clientAuthFields,
  enrolment: z.string().min(1).max(8192),
  secret: base64(256),
});

/** Step 1: check the AK and the EK certificate, answer the credential to activate (MakeCredential). */
async function beginEnrolment(ctx: RouteContext<{ body: typeof enrolBody }>): Promise<void> {
  const { body } = ctx;
  const started = await ctx.deps.loop.keyEnrolment.begin({ agent: ctx.agent!, akPublic: body.ak_public, ekPublic: body.ek_public, ekCertificate: body.ek_certificate, requestId: ctx.requestId });
  respond(ctx, 200, { enrolment: started.enrolment, credential: started.credential, ak_name: started.akName, expires_in: started.expiresIn }, NO_STORE);
}

/** Step 2: the secret `tpm2_activatecredential` released; only then is the AK registered. */
async function activateKey(ctx: RouteContext<{ body: typeof activateBody }>): Promise<void> {
  const { akName } = await ctx.deps.loop.keyEnrolment.activate({ agent: ctx.agent!, enrolment: ctx.body.enrolment, secret: ctx.body.secret, requestId: ctx.requestId });
  respond(ctx, 201, { ak_name: akName }, NO_STORE);
}

export const keyEnrolmentRoutes = [
  defineRoute({
    method: 'POST', path: BROKER_PATH.tpmEnrol, family: 'oauth', body: 'json',
    summary: 'Start TPM attestation-key enrolment: the credential to activate', schema: { body: enrolBody },
    steps: [authenticateClient, limitClient, beginEnrolment],
  }),
  defineRoute({
    method: 'POST', path: BROKER_PATH.tpmActivate, family: 'oauth', body: 'json',
    summary: 'Finish TPM attestation-key enrolment with the activated secret', schema: { body: activateBody },
    steps: [authenticateClient, limitClient, activateKey],
  }),
];
