// A real, independent OpenID Provider for Signet's federation tests: panva's certified
// `oidc-provider` (pinned in package-lock.json), with its development interactions (a login
// page that takes any login and password, then a consent page), so a browser signs in there
// as a user would.
//
//     node provider.js --client-id ID --client-secret SECRET --redirect-uri URI [...]
//
// Registers one confidential client (client_secret_basic, the code flow, PKCE S256 required)
// with those redirect URIs. Every login is the one test account: sub "op-user-1", email
// "olga@op.example" (verified), name "Olga". Listens on 127.0.0.1, a port the system picks;
// once it serves, prints one JSON line {"issuer": "http://127.0.0.1:PORT", "port": PORT}.
// Logs each request it answers on stderr. Ends on SIGTERM / SIGINT, or when its stdin closes
// (the test that started it is gone).

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
  },
});
for (const need of ['client-id', 'client-secret', 'redirect-uri']) {
  if (!args[need]) {
    process.stderr.write(`provider.js: --${need} is required\n`);
    process.exit(2);
  }
}

const ACCOUNT = {
  sub: 'op-user-1',
  email: 'olga@op.example',
  email_verified: true,
  name: 'Olga',
};

// A signing key made for this run: published in the JWKS with its kid and alg.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signing = {
  ...privateKey.export({ format: 'jwk' }),
  kid: `op-${randomBytes(6).toString('hex')}`,
  alg: 'RS256',
  use: 'sig',
};

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: args['client-id'],
      client_secret: args['client-secret'],
      redirect_uris: args['redirect-uri'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    }],
    jwks: { keys: [signing] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    pkce: { required: () => true },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
    },
    // Any login is the one test account (the session keeps the login typed).
    findAccount: (ctx, id) => ({
      accountId: id,
      claims: () => ({ ...ACCOUNT }),
    }),
  });
  provider.on('server_error', (ctx, err) => {
    process.stderr.write(`provider.js: server_error ${ctx.method} ${ctx.path}: ${err.stack}\n`);
  });
  for (const event of ['authorization.error', 'grant.error', 'userinfo.error']) {
    provider.on(event, (ctx, err) => {
      process.stderr.write(`provider.js: ${event} ${ctx.method} ${ctx.path}: ${err.message} ` +
        `(${err.error_description ?? ''})\n`);
    });
  }
  const app = provider.callback();
  server.on('request', (req, res) => {
    res.on('finish', () => {
      const path = req.url.split('?')[0];
      process.stderr.write(`provider.js: ${req.method} ${path} -> ${res.statusCode}\n`);
    });
    app(req, res);
  });
  process.stdout.write(`${JSON.stringify({ issuer, port })}\n`);
});

const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
