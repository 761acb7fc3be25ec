import { ConfigReader } from '@backstage/config';
import { HostDiscovery } from '@backstage/backend-defaults/discovery';
import { isIP } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const root = join(__dirname, '../../../..');
const read = (file: string) =>
  new ConfigReader(parse(readFileSync(join(root, file), 'utf8')));

/**
 * The backend calls its own plugins (catalog, permission) at the internal URL discovery derives
 * from `backend.listen`. Where that is a name (`localhost`), every call resolves it and, with
 * Node's happy eyeballs, tries each address for 250 ms: on a busy event loop the attempt on the
 * address the backend listens on times out and the call fails on the other (ECONNREFUSED ::1).
 * The development backend listens on one loopback address, and its calls must go to exactly it.
 */
describe('the backend reaches itself where it listens', () => {
  it('app-config.yaml: internal URLs name the listen address itself, a loopback IP literal', async () => {
    const config = read('app-config.yaml');
    const host = config.getString('backend.listen.host');
    const port = config.getNumber('backend.listen.port');
    expect(isIP(host)).toBe(4);
    expect(host.startsWith('127.')).toBe(true);
    const catalog = new URL(
      await HostDiscovery.fromConfig(config).getBaseUrl('catalog'),
    );
    expect(catalog.hostname).toBe(host);
    expect(Number(catalog.port)).toBe(port);
    // The browser's URL may be a name; it must point at the same port.
    expect(Number(new URL(config.getString('backend.baseUrl')).port)).toBe(
      port,
    );
  });

  it('app-config.production.yaml: listening on every address, so any address a name resolves to answers', () => {
    const listen = read('app-config.production.yaml').getString(
      'backend.listen',
    );
    expect(listen).toBe(':7007');
  });
});
