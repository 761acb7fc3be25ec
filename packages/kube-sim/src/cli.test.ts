import { spawn } from 'node:child_process';
import path from 'node:path';

/** The `kube-sim` command: starts from the TypeScript sources, says what it is, serves the seed. */
describe('kube-sim CLI', () => {
  it('prints its URL when ready and serves the demo seed', async () => {
    const bin = path.resolve(__dirname, '..', 'bin', 'kube-sim');
    const child = spawn(
      process.execPath,
      [bin, '--port', '0', '--seed', 'demo', '--time-scale', '0.05'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      let output = '';
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no listening line in: ${output}`)),
          20000,
        );
        child.stdout.on('data', chunk => {
          output += chunk;
          const m = /kube-sim listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(
            output,
          );
          if (m) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        });
        child.stderr.on('data', chunk => {
          output += chunk;
        });
        child.on('exit', code =>
          reject(new Error(`exited with ${code}: ${output}`)),
        );
      });
      expect(output).toContain('not a cluster');
      const res = await fetch(
        `${url}/apis/apps/v1/namespaces/payments/deployments/payments-api`,
      );
      expect(res.status).toBe(200);
      expect((await res.json()).spec.replicas).toBe(3);
    } finally {
      child.kill('SIGTERM');
    }
  }, 30000);

  it('rejects unknown options', async () => {
    const bin = path.resolve(__dirname, '..', 'bin', 'kube-sim');
    const child = spawn(process.execPath, [bin, '--bogus', '1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', c => {
      stderr += c;
    });
    const code = await new Promise<number | null>(resolve =>
      child.on('exit', resolve),
    );
    expect(code).toBe(2);
    expect(stderr).toContain('unknown option --bogus');
  }, 30000);
});
