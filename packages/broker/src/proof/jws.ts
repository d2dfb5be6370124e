/** The one strict JWS module lives in the SDK (packages/sdk/src/jws); the broker uses it from here. */
export * from '@mandate/sdk/jws';
