import { createServer, Server } from 'http';
import { AddressInfo } from 'net';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import authPlugin from '@backstage/plugin-auth-backend';
import githubProvider from '@backstage/plugin-auth-backend-module-github-provider';
import oidcProvider from '@backstage/plugin-auth-backend-module-oidc-provider';
import guestProvider from '@backstage/plugin-auth-backend-module-guest-provider';
import { loadProductionConfig } from './__testUtils__/productionConfig';
import { dummyProductionEnv } from './__testUtils__/dummyProductionEnv';

/** An OIDC issuer's discovery document on loopback: the provider reads it when it starts. */
async function startFakeIssuer(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (req.url === '/.well-known/openid-configuration') {
      res.setHeader('Content-Type', 'application/json');
      res.end(
        JSON.stringify({
          issuer: base,
          authorization_endpoint: `${base}/authorize`,
          token_endpoint: `${base}/token`,
          userinfo_endpoint: `${base}/userinfo`,
          jwks_uri: `${base}/jwks`,
          response_types_supported: ['code'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256'],
        }),
      );
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>(done => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}` };
}

describe('the production sign-in providers', () => {
  let issuer: { server: Server; url: string };
  let backend: Awaited<ReturnType<typeof startTestBackend>>;
  let base: string;

  beforeAll(async () => {
    issuer = await startFakeIssuer();
    const config = await loadProductionConfig(
      dummyProductionEnv({
        AUTH_GITHUB_CLIENT_ID: 'gh-client-id',
        AUTH_OIDC_METADATA_URL: `${issuer.url}/.well-known/openid-configuration`,
        AUTH_OIDC_CLIENT_ID: 'oidc-client-id',
      }),
    );
    // The production auth section as it is; the test backend brings its own database and port.
    const auth = config.getConfig('auth').get();
    config.close();
    backend = await startTestBackend({
      features: [
        authPlugin,
        githubProvider,
        oidcProvider,
        guestProvider,
        mockServices.rootConfig.factory({
          data: { app: { baseUrl: 'http://127.0.0.1:3000' }, auth },
        }),
      ],
    });
    base = `http://127.0.0.1:${(backend.server.address() as AddressInfo).port}`;
  }, 60_000);

  afterAll(async () => {
    await backend?.stop();
    await new Promise(done => issuer?.server.close(done));
  });

  /** The provider's redirect, not followed: nothing may connect beyond loopback. */
  async function start(provider: string) {
    const response = await fetch(
      `${base}/api/auth/${provider}/start?env=production&scope=`,
      { redirect: 'manual' },
    );
    return {
      status: response.status,
      location: response.headers.get('location'),
    };
  }

  it('sends GitHub sign-in to github.com with the client id from the environment', async () => {
    const { status, location } = await start('github');
    expect(status).toBe(302);
    const url = new URL(location!);
    expect(url.origin + url.pathname).toBe(
      'https://github.com/login/oauth/authorize',
    );
    expect(url.searchParams.get('client_id')).toBe('gh-client-id');
    expect(url.searchParams.get('redirect_uri')).toMatch(
      /\/api\/auth\/github\/handler\/frame$/,
    );
  });

  it("sends OIDC sign-in to the issuer's authorization endpoint", async () => {
    const { status, location } = await start('oidc');
    expect(status).toBe(302);
    const url = new URL(location!);
    expect(url.origin + url.pathname).toBe(`${issuer.url}/authorize`);
    expect(url.searchParams.get('client_id')).toBe('oidc-client-id');
    expect(url.searchParams.get('code_challenge')).toBeTruthy();
  });

  it('has no guest sign-in, although the guest module is installed', async () => {
    const response = await fetch(
      `${base}/api/auth/guest/refresh?env=production`,
      {
        headers: { 'X-Requested-With': 'XMLHttpRequest' },
      },
    );
    expect(response.status).toBe(404);
  });
});
