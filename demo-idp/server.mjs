// A local OpenID Provider for Trygg's demo and its tests: one or more issuers (a Feide-like one for
// pupils and staff, an ID-porten/MitID-like one for guardians), each on its own loopback port.
//
// The protocol is oidc-provider's (a certified implementation): discovery, JWKS, the authorization
// code flow with PKCE, RP-initiated logout and back-channel logout. What is ours is only the sign-in
// page (username + password; a request for the higher acr says so on the page) and the accounts.
//
// Usage: node server.mjs CONFIG.json. Prints "ready <name> <issuer>" per issuer once listening.
// Config: {"issuers": [{"name", "port", "password", "acr_values": [normal, high],
//          "scopes": {"scope": ["claim", ...]}, "accounts": {"username": {claims}},
//          "clients": [{client_id, client_secret, redirect_uris, post_logout_redirect_uris,
//                       backchannel_logout_uri}]}]}
// Nothing is kept on disk: keys and sessions live as long as the process.

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';

import Provider from 'oidc-provider';

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));

const escapeHtml = (value) => String(value).replace(/[&<>"']/g, (c) => ({
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
}[c]));

function page(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title></head>
<body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`;
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 16384) throw new Error('body too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function loginForm(spec, uid, details, error) {
  const wanted = String(details.params.acr_values || '').split(' ');
  const high = spec.acr_values.length > 1 && wanted.includes(spec.acr_values[spec.acr_values.length - 1]);
  return page(`${spec.title || spec.name}: sign in`, `
${error ? `<p role="alert" id="error">${escapeHtml(error)}</p>` : ''}
${high ? '<p id="level">Higher level requested: this demo provider confirms it with the password.</p>' : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<p><label for="username">Username</label> <input id="username" name="username" autocomplete="username" required></p>
<p><label for="password">Password</label> <input id="password" name="password" type="password" required></p>
<p><button type="submit" id="sign-in">Sign in</button></p>
</form>`);
}

async function interaction(provider, spec, req, res, uid, submit) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) {
    res.statusCode = 400;
    res.end('wrong interaction');
    return;
  }
  if (!submit) {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.setHeader('cache-control', 'no-store');
    res.end(loginForm(spec, uid, details));
    return;
  }
  const form = await readForm(req);
  const username = form.get('username') || '';
  if (!Object.hasOwn(spec.accounts, username) || form.get('password') !== spec.password) {
    res.statusCode = 401;
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(loginForm(spec, uid, details, 'Wrong username or password.'));
    return;
  }
  const wanted = String(details.params.acr_values || '').split(' ').filter((v) => spec.acr_values.includes(v));
  // The strongest level asked for; without acr_values the normal one.
  const acr = wanted.sort((a, b) => spec.acr_values.indexOf(b) - spec.acr_values.indexOf(a))[0]
    || spec.acr_values[0];
  await provider.interactionFinished(req, res, {
    login: { accountId: username, acr, amr: ['pwd'], remember: true },
  }, { mergeWithLastSubmission: false });
}

async function startIssuer(spec) {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: crypto.randomUUID(), alg: 'RS256', use: 'sig' };
  const issuer = `http://127.0.0.1:${spec.port}`;
  const claims = { openid: ['sub', 'sid'], profile: ['name'], ...(spec.scopes || {}) };
  const provider = new Provider(issuer, {
    clients: spec.clients.map((client) => ({
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      backchannel_logout_session_required: true,
      ...client,
    })),
    jwks: { keys: [signingKey] },
    acrValues: spec.acr_values,
    claims,
    scopes: Object.keys(claims),
    // Claims of the granted scopes go in the ID token, as Feide and ID-porten put theirs.
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: false },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
    pkce: { required: () => true },
    cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(ctx, id) {
      if (!Object.hasOwn(spec.accounts, id)) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, ...spec.accounts[id] }) };
    },
    // A first-party demo: every client gets the scopes it asks for without a consent page.
    async loadExistingGrant(ctx) {
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope([...ctx.oidc.requestParamScopes].join(' '));
      await grant.save();
      return grant;
    },
    // Back-channel logout goes to Trygg on the loopback address, which oidc-provider's SSRF
    // guard would refuse: this provider only ever runs beside a local Trygg.
    fetch: (url, options) => {
      const { dispatcher, ...rest } = options;
      return globalThis.fetch(url, rest);
    },
    ttl: {
      AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600,
    },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page('Sign-in error', Object.entries(out).map(([k, v]) => `<p>${escapeHtml(k)}: ${escapeHtml(v)}</p>`).join(''));
    },
  });
  provider.on('backchannel.error', (ctx, err) => console.error(`back-channel logout failed: ${err.message}`));
  const handle = provider.callback();
  const server = http.createServer(async (req, res) => {
    try {
      const { pathname } = new URL(req.url, issuer);
      const match = pathname.match(/^\/interaction\/([\w-]+)(\/login)?$/);
      if (match) {
        if (match[2] && req.method !== 'POST') {
          res.statusCode = 405;
          res.end();
          return;
        }
        await interaction(provider, spec, req, res, match[1], Boolean(match[2]));
        return;
      }
      handle(req, res);
    } catch (err) {
      console.error(err);
      if (!res.headersSent) {
        res.statusCode = 400;
        res.setHeader('content-type', 'text/html; charset=utf-8');
        res.end(page('Sign-in error', '<p>The sign-in could not go on. Start again.</p>'));
      }
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(spec.port, '127.0.0.1', resolve);
  });
  console.log(`ready ${spec.name} ${issuer}`);
  return server;
}

const servers = [];
for (const spec of config.issuers) {
  servers.push(await startIssuer(spec));
}

const stop = () => {
  for (const server of servers) server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// Trygg holds the other end of stdin; when it ends, so has Trygg, however it was stopped.
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
