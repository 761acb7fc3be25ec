import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { ChildProcess, spawn } from 'node:child_process';
import request from 'supertest';
import { Caller, authHeader } from './portal';

/**
 * Runs a harness script (TypeScript, through Backstage's node transform) as a child process with
 * its options as JSON in argv[2], and waits for the line `{"url": ...}` it prints once it listens.
 * A real process also runs what Jest's module system cannot (the Kubernetes plugin's dynamic
 * imports of @kubernetes/client-node).
 */
export async function spawnHarnessProcess(
  script: string,
  options: unknown,
  timeoutMs = 90_000,
) {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '-r',
      require.resolve('@backstage/cli/config/nodeTransform.cjs'),
      resolvePackagePath(
        '@internal/reliability-tests',
        `src/harness/${script}`,
      ),
      JSON.stringify(options),
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_ENV: 'test' },
    },
  );
  let stderr = '';
  child.stderr!.on('data', d => {
    stderr = (stderr + d).slice(-4000);
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(`${script} did not start in ${timeoutMs} ms: ${stderr}`),
        ),
      timeoutMs,
    );
    let out = '';
    child.stdout!.on('data', d => {
      out += d;
      const line = out.split('\n').find(l => l.startsWith('{"url"'));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line).url);
      }
    });
    child.on('exit', code => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}: ${stderr}`));
    });
  });
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  return {
    url,
    pid: child.pid!,
    /** SIGKILL: the process gets no chance to clean up, as in a crash or an OOM kill. */
    async kill() {
      if (exited) return;
      const gone = new Promise(r => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
    },
    async stop() {
      if (exited) return;
      const gone = new Promise(r => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([gone, new Promise(r => setTimeout(r, 10_000))]);
      if (!exited) await this.kill();
    },
  };
}

export interface PortalProcessOptions {
  kubeUrl: string;
  /** PostgreSQL connection settings of the rollouts database (from TestDatabases' Knex). */
  connection: unknown;
  services: string[];
  owner: string;
  namespace: string;
}

/** A portal backend running in a child process (see portalProcess.ts). */
export async function spawnPortal(
  options: PortalProcessOptions,
  timeoutMs = 90_000,
) {
  const proc = await spawnHarnessProcess(
    'portalProcess.ts',
    options,
    timeoutMs,
  );
  const api = '/api/rollouts';
  return {
    ...proc,
    get(p: string, caller: Caller) {
      return request(proc.url).get(`${api}${p}`).set(authHeader(caller));
    },
    post(p: string, caller: Caller, body?: unknown) {
      const r = request(proc.url).post(`${api}${p}`).set(authHeader(caller));
      return body === undefined ? r : r.send(body as object);
    },
  };
}
export type PortalProcess = Awaited<ReturnType<typeof spawnPortal>>;
