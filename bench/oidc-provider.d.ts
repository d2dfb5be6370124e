// oidc-provider ships no type declarations; the bench only needs the constructor and the errors.
declare module 'oidc-provider' {
  const Provider: any;
  export default Provider;
  export const errors: Record<string, any>;
}
