import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { ApiClient } from './agent/ApiClient';
import { tokenKubeconfig } from './kubeconfig';
import { REAL_CLUSTER_KUBERNETES_PLUGIN } from './kubernetesPlugin';
import { PACKAGE_DIR } from './packageDir';

const ROOT = resolve(PACKAGE_DIR, '..', '..');

async function until(predicate: () => boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise(r => setTimeout(r, 250));
  }
}

/** What `make start CLUSTER=real` runs (scripts/start.sh), and what it hands the portal. */
describe('bin/kube-real', () => {
  it('applies the portal roles and the demo, writes the portal config with the reader and engine tokens, and leaves nothing behind on SIGTERM', async () => {
    const state = mkdtempSync(join(tmpdir(), 'kube-real-cli-'));
    let output = '';
    const cli = spawn(
      process.execPath,
      [
        join(PACKAGE_DIR, 'bin', 'kube-real'),
        '--state-dir',
        state,
        '--nodes',
        '1',
        '--time-scale',
        '0.1',
        '--apply',
        'plugins/rollouts-backend/rbac/rollouts-engine.yaml',
        '--apply',
        'plugins/rollouts-backend/rbac/kubernetes-plugin-reader.yaml',
        '--apply',
        'packages/kube-real/manifests/token-users.yaml',
        '--seed',
        'demo',
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    cli.stdout.on('data', d => (output += d));
    cli.stderr.on('data', d => (output += d));
    const exited = new Promise<number | null>(r => cli.once('exit', r));
    try {
      await until(
        () =>
          existsSync(join(state, 'app-config.yaml')) || cli.exitCode !== null,
        240_000,
      ).catch(() => {
        throw new Error(`kube-real did not come up:\n${output}`);
      });
      if (cli.exitCode !== null)
        throw new Error(`kube-real exited:\n${output}`);
      const config = parse(
        readFileSync(join(state, 'app-config.yaml'), 'utf8'),
      );
      const cluster = config.kubernetes.clusterLocatorMethods[0].clusters[0];
      expect(cluster).toEqual(
        expect.objectContaining({
          name: 'local',
          authProvider: 'serviceAccount',
        }),
      );
      // What the Kubernetes plugin's tab needs on 1.20 (the tab's suite checks its effect).
      expect(config.kubernetes.apiVersionOverrides).toEqual(
        REAL_CLUSTER_KUBERNETES_PLUGIN.apiVersionOverrides,
      );
      expect(cluster.skipMetricsLookup).toBe(true);
      const ca = Buffer.from(cluster.caData, 'base64').toString('utf8');
      const reader = ApiClient.fromKubeconfig(
        tokenKubeconfig(
          cluster.url,
          { data: ca },
          'reader',
          cluster.serviceAccountToken,
        ),
      );
      const deployments = await reader.request(
        'GET',
        '/apis/apps/v1/deployments',
      );
      expect(deployments.items.map((d: any) => d.metadata.name).sort()).toEqual(
        ['checkout-web', 'inventory-svc', 'payments-api', 'search-indexer'],
      );
      const engine = ApiClient.fromKubeconfig(
        tokenKubeconfig(
          cluster.url,
          { data: ca },
          'engine',
          config.rollouts.clusters[0].serviceAccountToken,
        ),
      );
      const scaled = await engine.request(
        'PATCH',
        '/apis/apps/v1/namespaces/inventory/deployments/inventory-svc',
        { spec: { replicas: 3 } },
        'application/merge-patch+json',
      );
      expect(scaled.spec.replicas).toBe(3);

      // The whole demo: payments-api's HTTPRoute accepted by the simulated gateway and the Argo
      // Rollout shipping-api brought to Healthy by the simulated Argo controller, on our CRDs.
      const admin = ApiClient.fromKubeconfig(
        readFileSync(join(state, 'kubeconfig'), 'utf8'),
      );
      let route: any;
      let rollout: any;
      const deadline = Date.now() + 120_000;
      for (;;) {
        route = await admin.request(
          'GET',
          '/apis/gateway.networking.k8s.io/v1/namespaces/payments/httproutes/payments-api',
        );
        rollout = await admin.request(
          'GET',
          '/apis/argoproj.io/v1alpha1/namespaces/shipping/rollouts/shipping-api',
        );
        const accepted = route.status?.parents?.[0]?.conditions?.some(
          (c: any) => c.type === 'Accepted' && c.status === 'True',
        );
        if (
          (accepted && rollout.status?.phase === 'Healthy') ||
          Date.now() > deadline
        )
          break;
        await new Promise(r => setTimeout(r, 500));
      }
      expect(
        route.status.parents[0].conditions.map((c: any) => [c.type, c.status]),
      ).toEqual([
        ['Accepted', 'True'],
        ['ResolvedRefs', 'True'],
      ]);
      expect(rollout.status).toMatchObject({ phase: 'Healthy' });
      const clusterDir = /logs in (\S+)/.exec(output)![1];
      expect(existsSync(clusterDir)).toBe(true);

      cli.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(existsSync(clusterDir)).toBe(false);
      expect(await reader.request('GET', '/version').catch(e => e.code)).toBe(
        'ECONNREFUSED',
      );
    } finally {
      if (cli.exitCode === null) cli.kill('SIGKILL');
      rmSync(state, { recursive: true, force: true });
    }
  }, 300_000);
});
