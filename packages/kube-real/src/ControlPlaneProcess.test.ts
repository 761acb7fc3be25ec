import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlPlaneProcess } from './ControlPlaneProcess';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(predicate: () => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise(r => setTimeout(r, 50));
  }
}

describe('ControlPlaneProcess', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kube-real-process-test-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('stops its process on stop() and quotes the log of one that failed', async () => {
    const pidFile = join(dir, 'pid');
    const p = new ControlPlaneProcess(
      'sleeper',
      'bash',
      ['-c', `echo $$ > ${pidFile}; echo started; exec sleep 1000`],
      join(dir, 'sleeper.log'),
    );
    await until(
      () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '',
    );
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(alive(pid)).toBe(true);
    await p.stop();
    expect(p.running).toBe(false);
    await until(() => !alive(pid));

    const failing = new ControlPlaneProcess(
      'failing',
      'bash',
      ['-c', 'echo "bind: address already in use" >&2; exit 3'],
      join(dir, 'failing.log'),
    );
    await until(() => !failing.running);
    expect(failing.failure('did not start').message).toMatch(
      /failing did not start \(it exited with 3; log .*failing\.log\):\nbind: address already in use/,
    );
  });

  it('leaves no process and no folder behind when its parent is killed', async () => {
    const clusterDir = join(dir, 'cluster');
    mkdirSync(clusterDir);
    const pidFile = join(dir, 'pid');
    // A parent that starts a guarded process and is then killed with SIGKILL (no exit handlers run).
    const script = `
      require('@backstage/cli/config/nodeTransform.cjs');
      const { ControlPlaneProcess } = require(${JSON.stringify(
        join(__dirname, 'ControlPlaneProcess.ts'),
      )});
      new ControlPlaneProcess('sleeper', 'bash', ['-c', 'echo $$ > ${pidFile}; exec sleep 1000'],
        ${JSON.stringify(
          join(dir, 'sleeper.log'),
        )}, { cleanupOnParentExit: ${JSON.stringify(clusterDir)} });
      setInterval(() => {}, 1000);
    `;
    const parent = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
    await until(
      () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '',
      20_000,
    );
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(alive(pid)).toBe(true);
    parent.kill('SIGKILL');
    await until(() => !alive(pid));
    await until(() => !existsSync(clusterDir));
    // No guard is left either.
    expect(execFileSync('ps', ['-eo', 'args']).toString()).not.toContain(
      pidFile,
    );
  }, 30_000);
});
