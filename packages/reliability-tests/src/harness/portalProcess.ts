/*
 * A portal backend in its own OS process, for the restart and replica suites: the parent can
 * SIGKILL it mid-rollout (no shutdown hooks, no goodbye) and run two of them side by side.
 * Started by `spawnPortal()` with Backstage's node transform; options arrive as JSON in argv[2].
 * Prints one line `{"url": ...}` on stdout when the backend listens.
 */
import knexFactory from 'knex';
import { startPortal } from './portal';
import { serviceEntity, userEntity } from './catalogEntities';

async function main() {
  const options = JSON.parse(process.argv[2]);
  const rolloutsDatabase = knexFactory({
    client: 'pg',
    connection: options.connection,
  });
  const portal = await startPortal({
    kubeUrl: options.kubeUrl,
    entities: [
      ...options.services.map((name: string) =>
        serviceEntity(name, options.owner, options.namespace),
      ),
      userEntity(options.owner.replace(/^user:default\//, '')),
    ],
    rolloutsDatabase,
  });
  await portal.waitForCatalog(
    options.services.map((n: string) => `component:default/${n}`),
  );
  process.stdout.write(
    `${JSON.stringify({ url: portal.url, pid: process.pid })}\n`,
  );
  process.on('SIGTERM', async () => {
    await portal.stop();
    await rolloutsDatabase.destroy();
    process.exit(0);
  });
}

main().catch(error => {
  process.stderr.write(`portal process failed: ${error?.stack ?? error}\n`);
  process.exit(1);
});
