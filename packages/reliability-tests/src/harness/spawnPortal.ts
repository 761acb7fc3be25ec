import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { ChildProcess, spawn } from 'node:child_process';
import request from 'supertest';
import { Caller, authHeader } from './portal';

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
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '-r',
      require.resolve('@backstage/cli/config/nodeTransform.cjs'),
      resolvePackagePath('@internal/reliability-tests', 'src/harness/portalProcess.ts'),
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
          new Error(
            `portal process did not start in ${timeoutMs} ms: ${stderr}`,
          ),
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
      reject(new Error(`portal process exited with ${code}: ${stderr}`));
    });
  });
  const api = '/api/rollouts';
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  return {
    url,
    pid: child.pid!,
    get(p: string, caller: Caller) {
      return request(url).get(`${api}${p}`).set(authHeader(caller));
    },
    post(p: string, caller: Caller, body?: unknown) {
      const r = request(url).post(`${api}${p}`).set(authHeader(caller));
      return body === undefined ? r : r.send(body as object);
    },
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
export type PortalProcess = Awaited<ReturnType<typeof spawnPortal>>;
