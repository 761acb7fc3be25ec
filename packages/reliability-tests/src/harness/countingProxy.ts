import http from 'node:http';
import { AddressInfo } from 'node:net';

/**
 * A loopback HTTP proxy in front of kube-sim that counts what the backend asked and what it got:
 * the figures of the fault suites (injected 5xx and 409 answers, watch streams opened and cut).
 */
export async function startCountingProxy(targetUrl: string) {
  const target = new URL(targetUrl);
  const counts = {
    requests: 0,
    byStatus: {} as Record<string, number>,
    watchesOpened: 0,
    watchesCut: 0,
  };
  const server = http.createServer((req, res) => {
    counts.requests++;
    const isWatch = /[?&]watch=(1|true)/.test(req.url ?? '');
    if (isWatch) counts.watchesOpened++;
    const upstream = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      up => {
        const status = String(up.statusCode ?? 0);
        counts.byStatus[status] = (counts.byStatus[status] ?? 0) + 1;
        res.writeHead(up.statusCode ?? 502, up.headers);
        // Watch answers may carry no event for a while: send the headers now, as kube-sim does.
        res.flushHeaders();
        up.pipe(res);
        up.on('aborted', () => {
          if (isWatch) counts.watchesCut++;
          res.destroy();
        });
        up.on('error', () => res.destroy());
      },
    );
    upstream.on('error', () => {
      counts.byStatus.proxyError = (counts.byStatus.proxyError ?? 0) + 1;
      res.destroy();
    });
    req.pipe(upstream);
    res.on('close', () => upstream.destroy());
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>(resolve =>
    server.listen(0, '127.0.0.1', () => resolve()),
  );
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    reset() {
      counts.requests = 0;
      counts.byStatus = {};
      counts.watchesOpened = 0;
      counts.watchesCut = 0;
    },
    close: () =>
      new Promise<void>(resolve => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
