import http from 'node:http';
import https from 'node:https';

/** Where a cluster is and who we are to it: what every client of a test target needs. */
export interface ClusterEndpoint {
  /** http://127.0.0.1:PORT (kube-sim, a fault proxy) or https://127.0.0.1:PORT (the API server). */
  url: string;
  token: string;
  /** The CA that signed an https server's certificate. */
  caData?: string;
}

export interface RestResponse {
  status: number;
  body: any;
}

/** The few API calls the target helpers make, with nothing between them and the server. */
export class RestClient {
  private readonly agent: http.Agent;

  constructor(readonly endpoint: ClusterEndpoint) {
    this.agent = endpoint.url.startsWith('https:')
      ? new https.Agent({ keepAlive: true, ca: endpoint.caData })
      : new http.Agent({ keepAlive: true });
  }

  /** Sends one request; answers with the status and the parsed JSON body (undefined if none). */
  request(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<RestResponse> {
    return new Promise((resolve, reject) => {
      const req = this.open(method, path, res => {
        const chunks: Buffer[] = [];
        res.on('data', c => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: any;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = text;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      if (body !== undefined) {
        const payload = typeof body === 'string' ? body : JSON.stringify(body);
        // A length always: Node sends a DELETE's body without one, the server reads the body as
        // the next request on the connection and answers that one 400.
        req.setHeader('Content-Type', contentType);
        req.setHeader('Content-Length', Buffer.byteLength(payload));
        req.end(payload);
      } else req.end();
    });
  }

  /** A raw request, for streams (watches). */
  open(
    method: string,
    path: string,
    onResponse: (res: http.IncomingMessage) => void,
  ): http.ClientRequest {
    const url = new URL(path, this.endpoint.url);
    const options: https.RequestOptions = {
      method,
      host: url.hostname,
      port: url.port,
      path: `${url.pathname}${url.search}`,
      agent: this.agent,
      headers: {
        Accept: 'application/json',
        Authorization: `Bearer ${this.endpoint.token}`,
      },
    };
    return url.protocol === 'https:'
      ? https.request(options, onResponse)
      : http.request(options, onResponse);
  }

  close() {
    this.agent.destroy();
  }
}
