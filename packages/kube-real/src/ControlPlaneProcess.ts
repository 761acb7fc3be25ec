import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { PACKAGE_DIR } from './packageDir';

const GUARD = join(PACKAGE_DIR, 'scripts', 'guard.sh');

/** How long a process may take to stop on SIGTERM before its process group is killed. */
const STOP_TIMEOUT_MS = 10_000;

/**
 * One process of the control plane (etcd, kube-apiserver, ...), run through scripts/guard.sh so
 * that it stops when this Node process exits, even when it is killed. Its output goes to a log
 * file whose end is quoted when it fails.
 */
export class ControlPlaneProcess {
  private readonly child: ChildProcess;
  private exitCode: number | null | undefined;
  private readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    readonly logFile: string,
    options: { cleanupOnParentExit?: string } = {},
  ) {
    const log = openSync(logFile, 'a');
    this.child = spawn('bash', [GUARD, command, ...args], {
      stdio: ['ignore', log, log, 'pipe'],
      detached: true,
      env: {
        ...process.env,
        ...(options.cleanupOnParentExit
          ? { KUBE_REAL_GUARD_CLEANUP: options.cleanupOnParentExit }
          : {}),
      },
    });
    closeSync(log);
    this.exited = new Promise(done => {
      this.child.once('exit', code => {
        this.exitCode = code;
        done();
      });
    });
    // Neither the process nor its guard pipe keeps a test run alive; the pipe's close at exit stops it.
    this.child.unref();
    (this.child.stdio[3] as Socket).unref();
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** The last lines of its log, for error messages. */
  tail(lines = 30): string {
    try {
      return readFileSync(this.logFile, 'utf8')
        .trimEnd()
        .split('\n')
        .slice(-lines)
        .join('\n');
    } catch {
      return '';
    }
  }

  /** An Error that names the process, says how it ended and quotes its log. */
  failure(what: string): Error {
    const how = this.running ? 'is running' : `exited with ${this.exitCode}`;
    return new Error(
      `kube-real: ${this.name} ${what} (it ${how}; log ${
        this.logFile
      }):\n${this.tail()}`,
    );
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    // Held while stopping, or a caller with nothing else to do would exit before the process has.
    this.child.ref();
    // Closing the guard's pipe is the stop signal: it sends SIGTERM and waits for the process.
    (this.child.stdio[3] as Socket).destroy();
    const timedOut = await Promise.race([
      this.exited.then(() => false),
      new Promise<boolean>(r =>
        setTimeout(() => r(true), STOP_TIMEOUT_MS).unref(),
      ),
    ]);
    if (timedOut && this.child.pid) {
      try {
        process.kill(-this.child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
      await this.exited;
    }
  }
}
