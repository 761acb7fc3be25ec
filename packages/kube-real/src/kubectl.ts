import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Runs the machine's kubectl against a cluster given by its kubeconfig YAML, as a user would type
 * it; resolves with stdout and rejects with kubectl's stderr in the message.
 */
export async function kubectl(
  kubeconfig: string,
  args: string[],
  options: { input?: string; timeoutMs?: number } = {},
): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'kube-real-kubectl-'));
  try {
    const config = join(dir, 'kubeconfig');
    writeFileSync(config, kubeconfig, { mode: 0o600 });
    let stdinFile: string | undefined;
    if (options.input !== undefined) {
      stdinFile = join(dir, 'input.yaml');
      writeFileSync(stdinFile, options.input);
    }
    const finalArgs = stdinFile
      ? args.map(a => (a === '-' ? stdinFile! : a))
      : args;
    try {
      const { stdout } = await run(
        'kubectl',
        [`--kubeconfig=${config}`, ...finalArgs],
        {
          timeout: options.timeoutMs ?? 120_000,
          maxBuffer: 16 * 1024 * 1024,
        },
      );
      return stdout;
    } catch (e: any) {
      throw new Error(
        `kubectl ${args.join(' ')} failed: ${e.stderr || e.message}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
