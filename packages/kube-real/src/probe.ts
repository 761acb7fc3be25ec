import { get } from 'node:https';
import { get as httpGet } from 'node:http';

/** The status and body of a GET, or undefined while nothing answers. */
export function probe(
  url: string,
  options: { ca?: string; token?: string; insecure?: boolean } = {},
): Promise<{ status: number; body: string } | undefined> {
  return new Promise(resolve => {
    const headers = options.token
      ? { Authorization: `Bearer ${options.token}` }
      : {};
    const onResponse = (res: import('node:http').IncomingMessage) => {
      let body = '';
      res.on('data', c => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve(undefined));
    };
    const req = url.startsWith('https:')
      ? get(
          url,
          { ca: options.ca, headers, rejectUnauthorized: !options.insecure },
          onResponse,
        )
      : httpGet(url, { headers }, onResponse);
    req.setTimeout(5000, () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

/** Polls until `ready` says yes; `check` may throw to give up early (a process that died). */
export async function waitFor(
  what: string,
  ready: () => Promise<boolean>,
  timeoutMs: number,
  check: () => void = () => {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    check();
    if (await ready()) return;
    if (Date.now() > deadline)
      throw new Error(
        `kube-real: timed out after ${timeoutMs} ms waiting for ${what}`,
      );
    await new Promise(r => setTimeout(r, 200));
  }
}
