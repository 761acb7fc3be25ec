import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import express from 'express';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import {
  base64url,
  CompactSign,
  exportJWK,
  generateKeyPair,
  JWK,
  jwtVerify,
  createLocalJWKSet,
  SignJWT,
} from 'jose';

/**
 * Signs Backstage user tokens the way the auth backend does (ES256, `typ: vnd.backstage.user`,
 * `ent` claims, and the `uip` proof from which the backend derives limited tokens for
 * plugin-to-plugin calls). The backend verifies them with its real auth service, against the
 * public key that `userTokenIssuerPlugin` serves as the `auth` plugin.
 */
export async function createUserTokenSigner(issuer: string) {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const kid = 'reliability-user-key';
  const publicJwk: JWK = {
    ...(await exportJWK(publicKey)),
    kid,
    alg: 'ES256',
    use: 'sig',
  };
  const encoder = new TextEncoder();

  async function issue(
    userEntityRef: string,
    memberOf: readonly string[] = [],
  ) {
    const iat = Math.floor(Date.now() / 1000);
    const exp = iat + 3600;
    // The signature over exactly the limited token's header and payload is the identity proof.
    const limited = await new CompactSign(
      encoder.encode(JSON.stringify({ sub: userEntityRef, iat, exp })),
    )
      .setProtectedHeader({
        typ: 'vnd.backstage.limited-user',
        alg: 'ES256',
        kid,
      })
      .sign(privateKey);
    const uip = limited.split('.')[2];
    return new SignJWT({ ent: [userEntityRef, ...memberOf], uip })
      .setProtectedHeader({ typ: 'vnd.backstage.user', alg: 'ES256', kid })
      .setIssuer(issuer)
      .setAudience('backstage')
      .setSubject(userEntityRef)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(privateKey);
  }

  return { publicJwk, issue };
}

/**
 * Stands in for the auth backend (plugin id `auth`): the user tokens' public key at
 * `/.well-known/jwks.json` and `/v1/userinfo`, which the backend asks for the ownership claims of
 * a limited (plugin-to-plugin) token. `ownership` maps a user ref to its claims.
 */
export function userTokenIssuerPlugin(options: {
  publicJwk: JWK;
  ownership: Record<string, string[]>;
}) {
  return createBackendPlugin({
    pluginId: 'auth',
    register(env) {
      env.registerInit({
        deps: { httpRouter: coreServices.httpRouter },
        async init({ httpRouter }) {
          const keys = createLocalJWKSet({ keys: [options.publicJwk] });
          const router = express.Router();
          router.get('/.well-known/jwks.json', (_req, res) => {
            res.json({ keys: [options.publicJwk] });
          });
          router.get('/v1/userinfo', async (req, res) => {
            const token = (req.headers.authorization ?? '').replace(
              /^Bearer /i,
              '',
            );
            try {
              const { payload } = await jwtVerify(token, keys);
              const sub = String(payload.sub);
              res.json({
                claims: { sub, ent: options.ownership[sub] ?? [sub] },
              });
            } catch {
              res.status(401).json({
                error: {
                  name: 'AuthenticationError',
                  message: 'Invalid user token',
                },
              });
            }
          });
          httpRouter.use(router);
          httpRouter.addAuthPolicy({
            path: '/.well-known',
            allow: 'unauthenticated',
          });
          httpRouter.addAuthPolicy({
            path: '/v1/userinfo',
            allow: 'unauthenticated',
          });
        },
      });
    },
  });
}

/** The claims of a GitHub Actions OIDC token (token.actions.githubusercontent.com), per repository. */
export function githubActionsClaims(
  repository: string,
  environment = 'production',
  context = `environment:${environment}`,
) {
  const [owner] = repository.split('/');
  return {
    sub: `repo:${repository}:${context}`,
    repository,
    repository_owner: owner,
    repository_id: '123456789',
    repository_owner_id: '987654',
    ref: 'refs/heads/main',
    ref_type: 'branch',
    sha: 'a'.repeat(40),
    environment,
    workflow: 'CI/CD',
    job_workflow_ref: `${repository}/.github/workflows/ci.yaml@refs/heads/main`,
    event_name: 'push',
    run_id: '4242',
    run_attempt: '1',
    actor: 'octocat',
    runner_environment: 'github-hosted',
  };
}

export interface GithubTokenOptions {
  repository: string;
  environment?: string;
  /** What follows the repository in `sub` (default `environment:<environment>`), e.g. `pull_request`. */
  context?: string;
  audience?: string;
  issuer?: string;
  /** Seconds from now; negative for an expired token. */
  expiresIn?: number;
  /** Sign with a key that the JWKS does not hold. */
  foreignKey?: boolean;
}

/**
 * A stand-in for GitHub's OIDC issuer on loopback: serves its JWKS at `/.well-known/jwks` and
 * mints RS256 tokens shaped like those GitHub Actions hands a job with `id-token: write`.
 */
export async function startGithubOidcIssuer() {
  const key = await generateKeyPair('RS256');
  const foreign = await generateKeyPair('RS256');
  const kid = 'github-actions-test-key';
  const jwk: JWK = {
    ...(await exportJWK(key.publicKey)),
    kid,
    alg: 'RS256',
    use: 'sig',
  };
  let jwksRequests = 0;
  const server = http.createServer((req, res) => {
    if (req.url === '/.well-known/jwks') {
      jwksRequests++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = base;
  const audience = 'backstage-rollouts';

  async function mint(options: GithubTokenOptions) {
    const now = Math.floor(Date.now() / 1000);
    const signer = options.foreignKey ? foreign.privateKey : key.privateKey;
    return new SignJWT(
      githubActionsClaims(
        options.repository,
        options.environment,
        options.context,
      ),
    )
      .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
      .setIssuer(options.issuer ?? issuer)
      .setAudience(options.audience ?? audience)
      .setIssuedAt(now - 5)
      .setNotBefore(now - 5)
      .setJti(base64url.encode(crypto.getRandomValues(new Uint8Array(12))))
      .setExpirationTime(now + (options.expiresIn ?? 300))
      .sign(signer);
  }

  return {
    issuer,
    audience,
    jwksUrl: `${base}/.well-known/jwks`,
    jwksRequests: () => jwksRequests,
    mint,
    close: () => new Promise<void>(resolve => server.close(() => resolve())),
  };
}
export type GithubOidcIssuer = Awaited<
  ReturnType<typeof startGithubOidcIssuer>
>;
