import { createServer } from 'node:net';

/**
 * Free loopback ports, all held open until every one is chosen so that no two are the same. A
 * process started later could still lose one to another program; the caller then sees it fail
 * to listen, with its log.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map(s => (s.address() as { port: number }).port);
  await Promise.all(servers.map(s => new Promise(r => s.close(r))));
  return ports;
}
