import { KubeConfig, Watch } from '@kubernetes/client-node';
import { request as httpsRequest, RequestOptions } from 'node:https';

/** A Kubernetes API answer other than 2xx, with the server's Status body. */
export class ApiError extends Error {
  constructor(readonly statusCode: number, readonly body: any, what: string) {
    super(`${what}: ${statusCode} ${body?.message ?? JSON.stringify(body)}`);
  }
}

/**
 * The node agent's door to the API server: `@kubernetes/client-node` for credentials and watch
 * streams, and plain JSON requests for writes. The typed API clients turn timestamps into Date
 * objects (and lose sub-second MicroTimes); the agent compares and writes statuses as the server
 * serves them, so it keeps the JSON as it is.
 */
export class ApiClient {
  private readonly server: URL;
  readonly watcher: Watch;

  constructor(readonly kc: KubeConfig) {
    const cluster = kc.getCurrentCluster();
    if (!cluster)
      throw new Error('kube-real agent: the kubeconfig has no current cluster');
    this.server = new URL(cluster.server);
    this.watcher = new Watch(kc);
  }

  static fromKubeconfig(yaml: string): ApiClient {
    const kc = new KubeConfig();
    kc.loadFromString(yaml);
    return new ApiClient(kc);
  }

  async request<T = any>(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const options: RequestOptions = {
      method,
      hostname: this.server.hostname,
      port: this.server.port || 443,
      path,
      headers: {
        Accept: 'application/json',
        // A length always: Node sends a DELETE's body without one, and the server then drops
        // the body, here the DeleteOptions of the kubelet's final delete.
        ...(payload !== undefined
          ? {
              'Content-Type': contentType,
              'Content-Length': Buffer.byteLength(payload),
            }
          : {}),
      },
    };
    await this.kc.applyToHTTPSOptions(options);
    return new Promise<T>((resolve, reject) => {
      const req = httpsRequest(options, res => {
        const chunks: Buffer[] = [];
        res.on('data', c => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: any = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            // Not JSON: kept as text for the error message.
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve(parsed as T);
          else reject(new ApiError(status, parsed, `${method} ${path}`));
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(payload);
    });
  }
}

export function isStatus(e: unknown, code: number): boolean {
  return e instanceof ApiError && e.statusCode === code;
}
