import { useCallback, useMemo, useState } from 'react';
import {
  Content,
  ContentHeader,
  ErrorPanel,
  Header,
  InfoCard,
  Page,
  ProxiedSignInPage,
  SignInPage,
} from '@backstage/core-components';
import {
  ConfigApi,
  configApiRef,
  IdentityApi,
  SignInPageProps,
  useApi,
} from '@backstage/core-plugin-api';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Grid from '@material-ui/core/Grid';
import Typography from '@material-ui/core/Typography';

/** The header the backend's `demo` auth provider reads the user name from. */
const DEMO_USER_HEADER = 'x-loopline-demo-user';

/** Where the last choice is kept, so that a reload signs in the same way. */
const CHOICE_STORAGE_KEY = '@loopline/app:DemoSignInPage:choice';

interface DemoUser {
  name: string;
  displayName?: string;
  description?: string;
}

type Choice = { provider: 'guest' } | { provider: 'demo'; user: DemoUser };

/** The configured demo users, or undefined when demo sign-in is off. */
function readDemoUsers(config: ConfigApi): DemoUser[] | undefined {
  return config
    .getOptionalConfigArray('loopline.demoSignIn.users')
    ?.map(user => ({
      name: user.getString('name'),
      displayName: user.getOptionalString('displayName'),
      description: user.getOptionalString('description'),
    }));
}

function serialize(choice: Choice): string {
  return choice.provider === 'guest' ? 'guest' : `demo:${choice.user.name}`;
}

/** The remembered choice, if it is still offered. */
function loadChoice(users: DemoUser[]): Choice | undefined {
  const stored = localStorage.getItem(CHOICE_STORAGE_KEY);
  if (stored === 'guest') {
    return { provider: 'guest' };
  }
  const user = users.find(u => stored === `demo:${u.name}`);
  return user && { provider: 'demo', user };
}

function forgetChoice() {
  localStorage.removeItem(CHOICE_STORAGE_KEY);
}

/** The identity as is, except that signing out also forgets the choice. */
function forgettingOnSignOut(identity: IdentityApi): IdentityApi {
  return {
    getProfileInfo: () => identity.getProfileInfo(),
    getBackstageIdentity: () => identity.getBackstageIdentity(),
    getCredentials: () => identity.getCredentials(),
    signOut: async () => {
      forgetChoice();
      await identity.signOut();
    },
  };
}

function SignInError(props: { error?: Error; onBack: () => void }) {
  return (
    <Content>
      <ErrorPanel
        title="Could not sign in"
        error={props.error ?? new Error('Unknown error')}
        defaultExpanded
      />
      <Box mt={2}>
        <Button color="primary" variant="outlined" onClick={props.onBack}>
          Choose another way to sign in
        </Button>
      </Box>
    </Content>
  );
}

function ChoiceCard(props: {
  title: string;
  subheader?: string;
  description: string;
  action: string;
  onClick: () => void;
}) {
  const { title, subheader, description, action, onClick } = props;
  return (
    <Grid item xs={12} sm={6} md={4}>
      <InfoCard
        title={title}
        subheader={subheader}
        variant="fullHeight"
        actions={
          <Button color="primary" variant="outlined" onClick={onClick}>
            {action}
          </Button>
        }
      >
        <Typography variant="body1">{description}</Typography>
      </InfoCard>
    </Grid>
  );
}

function ChooserPage(props: {
  users: DemoUser[];
  onChoose: (choice: Choice) => void;
}) {
  const { users, onChoose } = props;
  const appTitle = useApi(configApiRef).getString('app.title');
  return (
    <Page themeId="home">
      <Header title={appTitle} />
      <Content>
        <ContentHeader
          title="Sign in"
          description="Enter as a guest, or act as one of the demo catalog's users to see what they may do."
        />
        <Grid container spacing={2}>
          <ChoiceCard
            title="Guest"
            description="Sign in without an account; you own nothing and may only read."
            action="Enter as guest"
            onClick={() => onChoose({ provider: 'guest' })}
          />
          {users.map(user => {
            const name = user.displayName ?? user.name;
            return (
              <ChoiceCard
                key={user.name}
                title={name}
                subheader={`user:default/${user.name}`}
                description={user.description ?? ''}
                action={`Sign in as ${name}`}
                onClick={() => onChoose({ provider: 'demo', user })}
              />
            );
          })}
        </Grid>
      </Content>
    </Page>
  );
}

/**
 * The demo app's sign-in page: enter as a guest or as one of the users listed
 * in `loopline.demoSignIn.users`, through the backend's `demo` proxy provider.
 * The choice is remembered until sign-out. Without that config it is the
 * standard guest sign-in page.
 */
export function DemoSignInPage(props: SignInPageProps) {
  const { onSignInSuccess } = props;
  const configApi = useApi(configApiRef);
  const users = useMemo(() => readDemoUsers(configApi), [configApi]);
  const [choice, setChoice] = useState(() => users && loadChoice(users));

  // A failed sign-in (say the user was removed from the catalog) offers the
  // choice again instead of retrying the remembered one forever.
  const ErrorComponent = useCallback(
    ({ error }: { error?: Error }) => (
      <SignInError
        error={error}
        onBack={() => {
          forgetChoice();
          setChoice(undefined);
        }}
      />
    ),
    [],
  );

  if (!users) {
    return <SignInPage {...props} auto providers={['guest']} />;
  }
  if (!choice) {
    return <ChooserPage users={users} onChoose={setChoice} />;
  }
  return (
    <ProxiedSignInPage
      provider={choice.provider}
      headers={
        choice.provider === 'demo'
          ? { [DEMO_USER_HEADER]: choice.user.name }
          : undefined
      }
      onSignInSuccess={identity => {
        localStorage.setItem(CHOICE_STORAGE_KEY, serialize(choice));
        onSignInSuccess(forgettingOnSignOut(identity));
      }}
      ErrorComponent={ErrorComponent}
    />
  );
}
