import { createMockDirectory } from '@backstage/backend-test-utils';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import fs from 'node:fs';
import { parse } from 'yaml';
import { createManifestsRenderAction } from './manifestsRender';

describe('rust:manifests:render', () => {
  const workspace = createMockDirectory();
  beforeEach(() => workspace.clear());

  const input = {
    name: 'orders',
    port: 8080,
    strategy: 'Canary' as const,
    canarySteps: [25, 75],
    cluster: 'local',
    namespace: 'shop',
    imageRepository: 'ghcr.io/acme/orders',
  };

  it('writes validated manifests and a kustomization', async () => {
    const ctx = createMockActionContext({
      input,
      workspacePath: workspace.path,
    });
    await createManifestsRenderAction().handler(ctx);
    const kustomization = parse(
      fs.readFileSync(
        workspace.resolve('deploy/kubernetes/kustomization.yaml'),
        'utf8',
      ),
    );
    expect(kustomization.resources).toEqual([
      'serviceaccount.yaml',
      'configmap.yaml',
      'deployment.yaml',
      'service.yaml',
      'analysis.yaml',
      'poddisruptionbudget.yaml',
      'horizontalpodautoscaler.yaml',
    ]);
    const deployment = parse(
      fs.readFileSync(
        workspace.resolve('deploy/kubernetes/deployment.yaml'),
        'utf8',
      ),
    );
    expect(deployment.metadata.annotations).toEqual({
      'rollouts.backstage.io/entity': 'component:default/orders',
      'rollouts.backstage.io/strategy': 'Canary',
      'rollouts.backstage.io/canary-steps':
        '[{"setWeight":25},{"pause":{}},{"setWeight":75},{"pause":{}},{"setWeight":100}]',
      // A canary is judged by its metrics unless the analysis is switched off.
      'rollouts.backstage.io/analysis': 'orders-analysis',
    });
    expect(deployment.spec.template.spec.containers[0].image).toBe(
      'ghcr.io/acme/orders:main',
    );
    // Every object names its entity: the cluster-side binding the apply step and the engine trust.
    for (const file of kustomization.resources) {
      const object = parse(
        fs.readFileSync(workspace.resolve(`deploy/kubernetes/${file}`), 'utf8'),
      );
      expect([
        object.kind,
        object.metadata.annotations['rollouts.backstage.io/entity'],
      ]).toEqual([object.kind, 'component:default/orders']);
    }
  });

  it('refuses steps that do not add up, before writing anything', async () => {
    const ctx = createMockActionContext({
      input: { ...input, canarySteps: [75, 25] },
      workspacePath: workspace.path,
    });
    await expect(createManifestsRenderAction().handler(ctx)).rejects.toThrow(
      'Canary steps must increase: step 2 (25%) is not above step 1 (75%)',
    );
    expect(fs.existsSync(workspace.resolve('deploy'))).toBe(false);
  });

  it('refuses an output folder outside the workspace and a hostile image tag', async () => {
    await expect(
      createManifestsRenderAction().handler(
        createMockActionContext({
          input: { ...input, directory: '../escape' },
          workspacePath: workspace.path,
        }),
      ),
    ).rejects.toThrow(/outside|not allowed/i);
    await expect(
      createManifestsRenderAction().handler(
        createMockActionContext({
          input: { ...input, imageTag: 'x\nkind: Secret' },
          workspacePath: workspace.path,
        }),
      ),
    ).rejects.toThrow('Invalid image tag');
  });
});
