// A real OpenID Connect provider for mageflow's tests: panva's certified `oidc-provider`,
// configured from the environment and listening on 127.0.0.1 at a port the kernel picks.
// It prints `listening <url>` and `issuer <url>` once it listens, and runs until its stdin
// closes.
//
//   OIDC_ISSUER    its issuer URL, when it is reached through a proxy (default: its own URL)
//   OIDC_CLIENTS   JSON: [{"client_id", "client_secret", "redirect_uris": [...]}, ...]
//   OIDC_ACCOUNTS  JSON: {"<login>": {"email": "...", "groups": ["..."]}, ...}
//   OIDC_ID_TOKEN_TTL  seconds an ID token lives (default 600)
//
// Sign-in uses the package's own development login page: any listed login, any password.
// Consent is taken as given (the client is first-party), as an IT team configures it.
import http from 'node:http';
import Provider from 'oidc-provider';

const clients = JSON.parse(process.env.OIDC_CLIENTS ?? '[]');
const accounts = JSON.parse(process.env.OIDC_ACCOUNTS ?? '{}');
const idTokenTtl = Number(process.env.OIDC_ID_TOKEN_TTL ?? 600);

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const own = `http://127.0.0.1:${server.address().port}`;
  const issuer = process.env.OIDC_ISSUER || own;
  const provider = new Provider(issuer, {
    clients: clients.map((c) => ({
      ...c,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    })),
    pkce: { required: () => true },
    scopes: ['openid', 'profile', 'email', 'groups'],
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username'],
      email: ['email', 'email_verified'],
      groups: ['groups'],
    },
    // The claims go in the ID token itself, where mageflow reads them.
    conformIdTokenClaims: false,
    ttl: { IdToken: idTokenTtl },
    cookies: { keys: ['mageflow-tests-only-cookie-key'] },
    async findAccount(ctx, sub) {
      const account = accounts[sub];
      if (!account) return undefined;
      return {
        accountId: sub,
        async claims() {
          return {
            sub,
            name: sub,
            preferred_username: sub,
            email: account.email,
            email_verified: true,
            groups: account.groups ?? [],
          };
        },
      };
    },
    async loadExistingGrant(ctx) {
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope('openid profile email groups');
      await grant.save();
      return grant;
    },
  });
  provider.on('server_error', (ctx, err) => console.error('server_error', err));
  server.on('request', provider.callback());
  console.log(`listening ${own}`);
  console.log(`issuer ${issuer}`);
});

process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
