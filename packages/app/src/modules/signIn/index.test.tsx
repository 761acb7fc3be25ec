import { act, screen } from '@testing-library/react';
import { renderInTestApp } from '@backstage/frontend-test-utils';
import { PortalSignInPage } from '.';
import { oidcAuthApiRef } from './oidcAuthApi';

/** The OIDC API as the sign-in page sees it before anyone clicks: no session yet. */
const oidcAuthApi = {
  getBackstageIdentity: async () => undefined,
  getProfile: async () => undefined,
  getIdToken: async () => '',
  signIn: async () => {},
  signOut: async () => {},
  sessionState$: () => ({ subscribe: () => ({ unsubscribe() {} }) }),
};

async function renderFor(environment: string | undefined) {
  // In act: the test app suspends while it loads, which a bare synchronous render reports.
  await act(async () => {
    renderInTestApp(<PortalSignInPage onSignInSuccess={() => {}} />, {
      apis: [[oidcAuthApiRef, oidcAuthApi as any]],
      config: {
        app: { title: 'Rust Delivery Portal' },
        backend: { baseUrl: 'http://127.0.0.1:7007' },
        ...(environment ? { auth: { environment } } : {}),
      },
    });
  });
  // The page has rendered its providers once its heading is there.
  await screen.findByText('Rust Delivery Portal', undefined, {
    timeout: 10_000,
  });
}

describe('PortalSignInPage', () => {
  it('offers GitHub and OIDC in production, and no guest', async () => {
    await renderFor('production');
    expect(await screen.findByText('GitHub')).toBeInTheDocument();
    expect(screen.getByText('Single sign-on')).toBeInTheDocument();
    expect(screen.queryByText('Guest')).toBeNull();
  });

  it('offers the guest and the demo users in development, and no GitHub', async () => {
    await renderFor('development');
    expect(await screen.findByText('Guest')).toBeInTheDocument();
    expect(
      screen.getByRole('button', { name: 'Sign in as Ada Rust' }),
    ).toBeInTheDocument();
    expect(screen.queryByText('GitHub')).toBeNull();
    expect(screen.queryByText('Single sign-on')).toBeNull();
  });

  it('treats a config without auth.environment as development, as the backend does', async () => {
    await renderFor(undefined);
    expect(await screen.findByText('Guest')).toBeInTheDocument();
  });
});
