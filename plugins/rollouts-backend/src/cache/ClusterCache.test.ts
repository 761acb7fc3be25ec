import { mockServices } from '@backstage/backend-test-utils';
import { KubeConfig } from '@kubernetes/client-node';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { ClusterCache } from './ClusterCache';

/**
 * An API server without the Gateway API: empty lists and idle watches for the built-in kinds,
 * 404 for HTTPRoutes (as a cluster without the CRDs answers).
 */
async function clusterWithoutGatewayApi() {
  const routeRequests: string[] = [];
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/apis/gateway.networking.k8s.io/')) {
      routeRequests.push(req.url);
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          reason: 'NotFound',
          code: 404,
        }),
      );
      return;
    }
    if (req.url?.includes('watch=true')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      return; // an idle watch
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        kind: 'List',
        items: [],
        metadata: { resourceVersion: '1' },
      }),
    );
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, url, routeRequests };
}

jest.setTimeout(20_000);

describe('ClusterCache on a cluster that does not serve HTTPRoutes', () => {
  it('syncs at once, says so once, and looks again only every minute', async () => {
    const { server, url, routeRequests } = await clusterWithoutGatewayApi();
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'c', server: url, skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'c', cluster: 'c', user: 'u' }],
      currentContext: 'c',
    });
    const logger = mockServices.logger.mock();
    logger.child.mockReturnValue(logger);
    const cache = new ClusterCache({ name: 'c', url, kubeConfig }, logger);
    const started = Date.now();
    await cache.synced();
    expect(Date.now() - started).toBeLessThan(3000);
    // The next look would be a minute away: in two seconds nothing more is asked.
    await new Promise(r => setTimeout(r, 2000));
    expect(routeRequests).toHaveLength(1);
    expect(logger.info).toHaveBeenCalledWith(
      'The cluster does not serve httproutes; looking again every minute',
    );
    expect(logger.warn).not.toHaveBeenCalled();
    expect(cache.httpRoutes.list()).toEqual([]);
    await cache.stop();
    server.closeAllConnections();
    await new Promise(r => server.close(r));
  });
});
