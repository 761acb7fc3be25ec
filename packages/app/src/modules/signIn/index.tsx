import { useState } from 'react';
import Button from '@material-ui/core/Button';
import Grid from '@material-ui/core/Grid';
import Typography from '@material-ui/core/Typography';
import {
  Content,
  Header,
  InfoCard,
  Page,
  ProxiedSignInPage,
  SignInPage,
} from '@backstage/core-components';
import {
  configApiRef,
  useApi,
  type IdentityApi,
} from '@backstage/core-plugin-api';
import { createFrontendModule } from '@backstage/frontend-plugin-api';
import {
  SignInPageBlueprint,
  type SignInPageProps,
} from '@backstage/plugin-app-react';
import { oidcAuthApi } from './oidcAuthApi';
import { signInProvidersFor } from './signInProviders';

/** Who signs in, remembered so a reload signs the same person in again (until they sign out). */
const CHOICE_KEY = 'portal:sign-in-as';

/**
 * The demo organisation's other users (examples/org.yaml), whom the backend's `demo` provider
 * signs in (development only; `auth.providers.demo.users`). Ada is a second owner of team-rust's
 * services: she can approve what the guest asks for, as four-eyes approval needs.
 */
const DEMO_USERS = [
  {
    name: 'ada',
    title: 'Ada Rust',
    about: 'team-rust, a second owner of its services',
  },
  {
    name: 'alice',
    title: 'Alice Search',
    about: 'team-search (owns search-indexer)',
  },
];

type Choice = { provider: 'guest' } | { provider: 'demo'; user: string };

function readChoice(): Choice | undefined {
  try {
    const raw = localStorage.getItem(CHOICE_KEY);
    return raw ? (JSON.parse(raw) as Choice) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The local portal's sign-in (development): the guest (user:default/guest of team-rust), or one of
 * the demo users. Both are the backend's proxy providers, so every request carries a real
 * Backstage token for that user and the server's permission policy sees who is asking.
 */
function LocalSignInPage(props: SignInPageProps) {
  const [choice, setChoice] = useState<Choice | undefined>(readChoice);
  const choose = (next: Choice | undefined) => {
    if (next) localStorage.setItem(CHOICE_KEY, JSON.stringify(next));
    else localStorage.removeItem(CHOICE_KEY);
    setChoice(next);
  };
  if (choice) {
    return (
      <ProxiedSignInPage
        {...props}
        provider={choice.provider}
        headers={
          choice.provider === 'demo'
            ? { 'x-demo-user': choice.user }
            : undefined
        }
        onSignInSuccess={(identity: IdentityApi) =>
          props.onSignInSuccess({
            getProfileInfo: () => identity.getProfileInfo(),
            getBackstageIdentity: () => identity.getBackstageIdentity(),
            getCredentials: () => identity.getCredentials(),
            signOut: async () => {
              localStorage.removeItem(CHOICE_KEY);
              await identity.signOut();
            },
          })
        }
        ErrorComponent={({ error }) => (
          <Page themeId="home">
            <Header title="Could not sign in" />
            <Content>
              <Typography paragraph>{error?.message}</Typography>
              <Button variant="outlined" onClick={() => choose(undefined)}>
                Choose again
              </Button>
            </Content>
          </Page>
        )}
      />
    );
  }
  return (
    <Page themeId="home">
      <Header
        title="Rust Delivery Portal"
        subtitle="Sign in to the local portal"
      />
      <Content>
        <Grid container spacing={2}>
          <Grid item xs={12} md={4}>
            <InfoCard title="Guest">
              <Typography paragraph>
                user:default/guest, of team-rust, which owns most demo services.
              </Typography>
              <Button
                variant="contained"
                color="primary"
                onClick={() => choose({ provider: 'guest' })}
              >
                Enter
              </Button>
            </InfoCard>
          </Grid>
          {DEMO_USERS.map(user => (
            <Grid item xs={12} md={4} key={user.name}>
              <InfoCard title={user.title}>
                <Typography
                  paragraph
                >{`user:default/${user.name}, ${user.about}.`}</Typography>
                <Button
                  variant="outlined"
                  color="primary"
                  onClick={() => choose({ provider: 'demo', user: user.name })}
                >
                  {`Sign in as ${user.title}`}
                </Button>
              </InfoCard>
            </Grid>
          ))}
        </Grid>
      </Content>
    </Page>
  );
}

/**
 * In development, the guest or a demo user (above). In production, GitHub or OIDC; the backend's
 * resolvers admit only users of the catalog.
 */
export function PortalSignInPage(props: SignInPageProps) {
  const environment =
    useApi(configApiRef).getOptionalString('auth.environment');
  const providers = signInProvidersFor(environment);
  if (providers.length === 1 && providers[0] === 'guest') {
    return <LocalSignInPage {...props} />;
  }
  return <SignInPage {...props} providers={providers} />;
}

const signInPage = SignInPageBlueprint.make({
  params: { loader: async () => PortalSignInPage },
});

export const signInModule = createFrontendModule({
  pluginId: 'app',
  extensions: [signInPage, oidcAuthApi],
});
