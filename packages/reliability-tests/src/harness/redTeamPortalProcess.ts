/*
 * The red-team backend in its own OS process (see composeRedTeamBackend): options arrive as JSON
 * in argv[2]; prints one line `{"url": ...}` on stdout when the backend listens.
 */
import { composeRedTeamBackend } from './redTeamPortal';

async function main() {
  const backend = await composeRedTeamBackend(JSON.parse(process.argv[2]));
  process.stdout.write(
    `${JSON.stringify({ url: backend.url, pid: process.pid })}\n`,
  );
  process.on('SIGTERM', async () => {
    await backend.stop();
    process.exit(0);
  });
}

main().catch(error => {
  process.stderr.write(`red-team backend failed: ${error?.stack ?? error}\n`);
  process.exit(1);
});
