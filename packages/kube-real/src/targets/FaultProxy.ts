import http from 'node:http';
import https from 'node:https';
import { AddressInfo } from 'node:net';
import type { ClusterEndpoint } from './RestClient';

/** The faults kube-sim injects itself (KubeSimFaults), here injected in front of a real server. */
export interface ClusterFaults {
  /** 0..1 of requests answered 500 or 503 with a Status body (health endpoints spared). */
  errorRate: number;
  /** Added before every answer. */
  latencyMs: number;
  /** 0 = never; watch streams are cut (socket destroyed) this long after they opened. */
  dropWatchAfterMs: number;
  /** 0..1 of writes (POST/PUT/PATCH/DELETE) answered 409 Conflict. */
  conflictRate: number;
}

export const NO_FAULTS: ClusterFaults = {
  errorRate: 0,
  latencyMs: 0,
  dropWatchAfterMs: 0,
  conflictRate: 0,
};

/** A write that reached the API server through the proxy, as kube-sim records them. */
export interface ProxiedWrite {
  method: string;
  /** The request path without the query string. */
  path: string;
  contentType: string;
  /** The body, parsed when it is JSON. */
  body: unknown;
  /** The API server's response status, once answered. */
  status?: number;
}

/** How many writes the recorder keeps (the oldest are dropped), as kube-sim's. */
const RECORDED_WRITES = 1000;

const status = (code: number, reason: string, message: string) =>
  JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
  });

/**
 * A plain-HTTP loopback proxy in front of an API server (https with its CA): injects kube-sim's
 * faults, with the same rules, so that fault suites run unchanged against a real server.
 * Requests keep the caller's Authorization header. Watches opened after a `dropWatchAfterMs`
 * change get the new value, and open ones are cut at once when it is lowered below their age.
 */
export async function startFaultProxy(upstream: ClusterEndpoint) {
  const target = new URL(upstream.url);
  const agent =
    target.protocol === 'https:'
      ? new https.Agent({ keepAlive: true, ca: upstream.caData })
      : new http.Agent({ keepAlive: true });
  let faults: ClusterFaults = { ...NO_FAULTS };
  const watches = new Set<{ opened: number; cut(): void; end(): void }>();
  /** Requests seen, faults injected, and watch streams that carried a 410 Gone ERROR event. */
  const counts = { total: 0, injected: 0, watchesGone: 0 };
  let held: Promise<void> | undefined;
  const writes: ProxiedWrite[] = [];

  const armWatch = (w: {
    opened: number;
    cut(): void;
    timer?: NodeJS.Timeout;
  }) => {
    clearTimeout(w.timer);
    if (faults.dropWatchAfterMs > 0) {
      const left = w.opened + faults.dropWatchAfterMs - Date.now();
      w.timer = setTimeout(w.cut, Math.max(0, left));
    }
  };

  const server = http.createServer(async (req, res) => {
    counts.total++;
    const f = faults;
    if (f.latencyMs > 0) await new Promise(r => setTimeout(r, f.latencyMs));
    const path = req.url ?? '/';
    const isHealth = /^\/(healthz|readyz|livez)/.test(path);
    if (!isHealth && f.errorRate > 0 && Math.random() < f.errorRate) {
      counts.injected++;
      req.resume();
      const unavailable = Math.random() < 0.5;
      res.writeHead(unavailable ? 503 : 500, {
        'Content-Type': 'application/json',
      });
      res.end(
        unavailable
          ? status(
              503,
              'ServiceUnavailable',
              'injected fault: the server is currently unable to handle the request',
            )
          : status(500, 'InternalError', 'injected fault'),
      );
      return;
    }
    const isWrite = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(
      req.method ?? '',
    );
    if (isWrite && f.conflictRate > 0 && Math.random() < f.conflictRate) {
      counts.injected++;
      req.resume();
      res.writeHead(409, { 'Content-Type': 'application/json' });
      res.end(
        status(
          409,
          'Conflict',
          'Operation cannot be fulfilled: injected conflict; please apply your changes to the latest version and try again',
        ),
      );
      return;
    }
    const isWatch = /[?&]watch=(1|true)/.test(path);
    if (isWatch && held) await held;
    let recorded: ProxiedWrite | undefined;
    if (isWrite) {
      const entry: ProxiedWrite = {
        method: req.method ?? '',
        path: path.split('?')[0],
        contentType: String(req.headers['content-type'] ?? ''),
        body: undefined,
      };
      recorded = entry;
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          entry.body = text ? JSON.parse(text) : undefined;
        } catch {
          entry.body = text;
        }
      });
      writes.push(entry);
      if (writes.length > RECORDED_WRITES) writes.shift();
    }
    const options: https.RequestOptions = {
      host: target.hostname,
      port: target.port,
      method: req.method,
      path,
      agent,
      headers: { ...req.headers, host: target.host },
    };
    const onResponse = (up: http.IncomingMessage) => {
      if (recorded) recorded.status = up.statusCode;
      res.writeHead(up.statusCode ?? 502, up.headers);
      res.flushHeaders();
      up.pipe(res);
      up.on('error', () => res.destroy());
      if (isWatch) {
        let gone = false;
        up.on('data', (chunk: Buffer) => {
          if (
            !gone &&
            /"type":"ERROR"[\s\S]*"code":410/.test(chunk.toString())
          ) {
            gone = true;
            counts.watchesGone++;
          }
        });
        const w = {
          opened: Date.now(),
          timer: undefined as NodeJS.Timeout | undefined,
          cut: () => {
            up.destroy();
            res.destroy();
          },
          end: () => {
            up.unpipe(res);
            up.destroy();
            res.end();
          },
        };
        watches.add(w);
        armWatch(w);
        res.on('close', () => {
          clearTimeout(w.timer);
          watches.delete(w);
        });
      }
    };
    const upstreamReq =
      target.protocol === 'https:'
        ? https.request(options, onResponse)
        : http.request(options, onResponse);
    upstreamReq.on('error', () => res.destroy());
    req.pipe(upstreamReq);
    res.on('close', () => upstreamReq.destroy());
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>(resolve =>
    server.listen(0, '127.0.0.1', () => resolve()),
  );
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    /** Writes sent through the proxy (optionally those whose path contains `pathPart`). */
    writes(pathPart?: string): ProxiedWrite[] {
      return writes
        .filter(w => !pathPart || w.path.includes(pathPart))
        .map(w => structuredClone(w));
    },
    resetWrites() {
      writes.length = 0;
    },
    setFaults(next: Partial<ClusterFaults>) {
      faults = { ...faults, ...next };
      for (const w of watches) armWatch(w as any);
    },
    /**
     * Ends every open watch cleanly, as an API server's request timeout does (clients resume from
     * their last resourceVersion), and holds new watch requests until `release()`: what happens
     * meanwhile, a client learns only from the watch it resumes, or from a re-list after 410.
     */
    holdWatches(): () => void {
      let release = () => {};
      held = new Promise<void>(r => {
        release = () => {
          held = undefined;
          r();
        };
      });
      for (const w of [...watches]) w.end();
      return release;
    },
    clearFaults() {
      faults = { ...NO_FAULTS };
      for (const w of watches) armWatch(w as any);
    },
    close: () =>
      new Promise<void>(resolve => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}

export type FaultProxy = Awaited<ReturnType<typeof startFaultProxy>>;
