import { render, screen } from '@testing-library/react';
import App from './App';

describe('App', () => {
  it('starts on the guest sign-in page of the portal', async () => {
    process.env = {
      NODE_ENV: 'test',
      APP_CONFIG: [
        {
          data: {
            app: { title: 'Rust Delivery Portal' },
            backend: { baseUrl: 'http://localhost:7007' },
          },
          context: 'test',
        },
      ] as any,
    };

    render(App.createRoot());

    expect(
      await screen.findByRole('button', { name: /enter/i }, { timeout: 20000 }),
    ).toBeInTheDocument();
    expect(screen.getAllByText(/Rust Delivery Portal/).length).toBeGreaterThan(
      0,
    );
  });
});
