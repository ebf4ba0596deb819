import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { registerMswTestHooks } from '@backstage/test-utils';
import App from './App';

const backendUrl = 'http://localhost:7007';

describe('App', () => {
  const server = setupServer(
    http.get(`${backendUrl}/api/auth/demo/refresh`, ({ request }) => {
      const user = request.headers.get('x-loopline-demo-user');
      return HttpResponse.json({
        profile: { displayName: user },
        backstageIdentity: {
          token: 'header.e30.signature',
          identity: {
            type: 'user',
            userEntityRef: `user:default/${user}`,
            ownershipEntityRefs: [`user:default/${user}`],
          },
        },
      });
    }),
    // The pages' own backend calls are not under test here.
    http.all(`${backendUrl}/*`, () =>
      HttpResponse.json(
        { error: { name: 'NotFoundError', message: 'Not in this test' } },
        { status: 404 },
      ),
    ),
  );
  registerMswTestHooks(server);

  beforeEach(() => {
    localStorage.clear();
    // A plain object: `process.env` itself would turn the config into a string.
    process.env = {
      ...process.env,
      APP_CONFIG: [
        {
          data: {
            app: { title: 'Loopline', baseUrl: 'http://localhost:3000' },
            backend: { baseUrl: backendUrl },
            loopline: {
              demoSignIn: {
                users: [{ name: 'alice', displayName: 'Alice Vintner' }],
              },
            },
          },
          context: 'test',
        },
      ] as any,
    };
  });

  it('signs in as a demo user and opens the ML overview at /ml', async () => {
    window.history.pushState({}, '', '/ml');
    render(<App />);

    expect(
      await screen.findByRole('button', { name: 'Enter as guest' }),
    ).toBeInTheDocument();
    await userEvent.click(
      screen.getByRole('button', { name: 'Sign in as Alice Vintner' }),
    );

    expect(
      await screen.findByRole('heading', { name: 'Machine learning' }),
    ).toBeInTheDocument();
    await waitFor(() =>
      expect(screen.getByRole('link', { name: 'ML' })).toHaveAttribute(
        'href',
        '/ml',
      ),
    );
  });
});
