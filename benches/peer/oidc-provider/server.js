// A peer for `signet bench peer-token`: node's oidc-provider (panva), configured the way
// Signet issues client_credentials tokens — a confidential client with
// client_secret_basic, a scope, and JWT access tokens signed with EdDSA (or ES256) by a
// key generated at start — and nothing else enabled. Node runs it on one event loop.
//
//   node server.js PORT ALG CLIENT_SECRET
//
// Prints one JSON line {"event": "ready", "token_url": ..., "pid": ...} when listening.
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const [port, alg = 'EdDSA', secret] = process.argv.slice(2);
if (!port || !secret) {
  console.error('usage: node server.js PORT ALG CLIENT_SECRET');
  process.exit(2);
}
const pair = alg === 'ES256'
  ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
  : generateKeyPairSync('ed25519');
const jwk = { ...pair.privateKey.export({ format: 'jwk' }), alg, use: 'sig', kid: 'bench' };
const issuer = `http://127.0.0.1:${port}`;
const api = 'urn:signet-bench:api';

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'bench',
    client_secret: secret,
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: alg,
    scope: 'bench-orders/read',
  }],
  jwks: { keys: [jwk] },
  enabledJWA: { authorizationSigningAlgValues: [alg], idTokenSigningAlgValues: [alg] },
  scopes: ['bench-orders/read'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => api,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'bench-orders/read',
        audience: api,
        accessTokenTTL: 3600,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg } },
      }),
    },
  },
});
provider.proxy = false;
const server = provider.listen(Number(port), '127.0.0.1', () => {
  const bound = server.address().port;
  console.log(JSON.stringify({
    event: 'ready',
    token_url: `http://127.0.0.1:${bound}/token`,
    pid: process.pid,
  }));
});
