import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { configApiRef, discoveryApiRef } from '@backstage/core-plugin-api';
import {
  mockApis,
  registerMswTestHooks,
  renderInTestApp,
  TestApiProvider,
} from '@backstage/test-utils';
import { DemoSignInPage } from './DemoSignInPage';

const authUrl = 'http://backstage.test/api/auth';
const storageKey = '@loopline/app:DemoSignInPage:choice';

const demoUsers: Record<string, string>[] = [
  {
    name: 'alice',
    displayName: 'Alice Vintner',
    description: 'Wine Science (owns the wine models)',
  },
  { name: 'bob' },
];

/** A session as the auth backend's proxy providers answer `/refresh`. */
function session(userName: string) {
  return {
    profile: { displayName: userName },
    backstageIdentity: {
      token: 'header.e30.signature',
      identity: {
        type: 'user',
        userEntityRef: `user:default/${userName}`,
        ownershipEntityRefs: [`user:default/${userName}`],
      },
    },
  };
}

describe('DemoSignInPage', () => {
  const server = setupServer();
  registerMswTestHooks(server);

  /** The names the backend was asked to sign in as, per provider. */
  let signIns: string[];
  beforeEach(() => {
    localStorage.clear();
    signIns = [];
    server.use(
      http.get(`${authUrl}/demo/refresh`, ({ request }) => {
        const user = request.headers.get('x-loopline-demo-user');
        signIns.push(`demo:${user}`);
        return user === 'mallory'
          ? HttpResponse.json(
              { error: { name: 'NotFoundError', message: 'No such user' } },
              { status: 404 },
            )
          : HttpResponse.json(session(user!));
      }),
      http.get(`${authUrl}/guest/refresh`, () => {
        signIns.push('guest');
        return HttpResponse.json(session('guest'));
      }),
    );
  });

  /** Renders the page with these demo users, or none configured. */
  function render(users?: Record<string, string>[]) {
    const onSignInSuccess = jest.fn();
    return renderInTestApp(
      <TestApiProvider
        apis={[
          [
            configApiRef,
            mockApis.config({
              data: {
                app: { title: 'Loopline' },
                ...(users && { loopline: { demoSignIn: { users } } }),
              },
            }),
          ],
          [
            discoveryApiRef,
            mockApis.discovery({ baseUrl: 'http://backstage.test' }),
          ],
        ]}
      >
        <DemoSignInPage onSignInSuccess={onSignInSuccess} />
      </TestApiProvider>,
    ).then(() => onSignInSuccess);
  }

  it('offers guest sign-in and each configured user', async () => {
    await render(demoUsers);

    expect(
      screen.getByRole('button', { name: 'Enter as guest' }),
    ).toBeInTheDocument();
    expect(
      screen.getByRole('button', { name: 'Sign in as Alice Vintner' }),
    ).toBeInTheDocument();
    expect(
      screen.getByText('Wine Science (owns the wine models)'),
    ).toBeInTheDocument();
    // Without a display name, the user is called by name.
    expect(
      screen.getByRole('button', { name: 'Sign in as bob' }),
    ).toBeInTheDocument();
    expect(signIns).toEqual([]);
  });

  it('signs in as the chosen user, remembers it, and forgets it on sign-out', async () => {
    const onSignInSuccess = await render(demoUsers);

    await userEvent.click(
      screen.getByRole('button', { name: 'Sign in as Alice Vintner' }),
    );

    await waitFor(() => expect(onSignInSuccess).toHaveBeenCalledTimes(1));
    expect(signIns).toEqual(['demo:alice']);
    const identity = onSignInSuccess.mock.calls[0][0];
    await expect(identity.getBackstageIdentity()).resolves.toMatchObject({
      userEntityRef: 'user:default/alice',
    });
    await expect(identity.getCredentials()).resolves.toEqual({
      token: 'header.e30.signature',
    });
    expect(localStorage.getItem(storageKey)).toBe('demo:alice');

    await identity.signOut();
    expect(localStorage.getItem(storageKey)).toBeNull();
  });

  it('signs in again with the remembered choice after a reload', async () => {
    localStorage.setItem(storageKey, 'demo:bob');
    const onSignInSuccess = await render(demoUsers);

    await waitFor(() => expect(onSignInSuccess).toHaveBeenCalledTimes(1));
    expect(signIns).toEqual(['demo:bob']);
    expect(screen.queryByRole('button', { name: /Sign in as/ })).toBeNull();
  });

  it('enters as a guest through the guest provider', async () => {
    const onSignInSuccess = await render(demoUsers);

    await userEvent.click(
      screen.getByRole('button', { name: 'Enter as guest' }),
    );

    await waitFor(() => expect(onSignInSuccess).toHaveBeenCalledTimes(1));
    expect(signIns).toEqual(['guest']);
    expect(localStorage.getItem(storageKey)).toBe('guest');
  });

  it('offers the choice again when the remembered sign-in fails', async () => {
    const users = [...demoUsers, { name: 'mallory' }];
    localStorage.setItem(storageKey, 'demo:mallory');
    const onSignInSuccess = await render(users);

    await userEvent.click(
      await screen.findByRole('button', {
        name: 'Choose another way to sign in',
      }),
    );

    expect(
      screen.getByRole('button', { name: 'Sign in as Alice Vintner' }),
    ).toBeInTheDocument();
    expect(localStorage.getItem(storageKey)).toBeNull();
    expect(onSignInSuccess).not.toHaveBeenCalled();
  });

  it('is the standard guest sign-in page without demo users', async () => {
    await render();

    expect(screen.getByText('Guest')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Enter' })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /Sign in as/ })).toBeNull();
  });
});
