import { createMockDirectory } from '@backstage/backend-test-utils';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import fs from 'node:fs';
import path from 'node:path';
import { LocalTarget } from '../local/LocalTarget';
import { createLocalPublishAction } from './localPublish';

describe('rust:local:publish', () => {
  const root = createMockDirectory();
  let target: LocalTarget;
  let workspace: string;

  beforeEach(() => {
    root.clear();
    root.setContent({
      workspace: {
        'Cargo.toml': '[package]',
        src: { 'main.rs': 'fn main() {}' },
      },
      services: {},
      outside: { 'secret.txt': 'do not copy' },
    });
    workspace = root.resolve('workspace');
    target = new LocalTarget(root.resolve('services'));
  });

  it('copies the workspace to <directory>/<name>', async () => {
    const ctx = createMockActionContext({
      input: { name: 'orders' },
      workspacePath: workspace,
    });
    await createLocalPublishAction({ localTarget: target }).handler(ctx);
    const published = path.join(root.resolve('services'), 'orders');
    expect(fs.readFileSync(path.join(published, 'src/main.rs'), 'utf8')).toBe(
      'fn main() {}',
    );
    expect(ctx.output).toHaveBeenCalledWith('directory', published);
    expect(ctx.output).toHaveBeenCalledWith(
      'catalogInfoPath',
      path.join(published, 'catalog-info.yaml'),
    );
  });

  it.each(['../outside', '..', '/etc', 'a/b'])(
    'refuses the name %j',
    async name => {
      const ctx = createMockActionContext({
        input: { name },
        workspacePath: workspace,
      });
      await expect(
        createLocalPublishAction({ localTarget: target }).handler(ctx),
      ).rejects.toThrow('Invalid service name');
      expect(fs.readdirSync(root.resolve('services'))).toEqual([]);
    },
  );

  it('refuses to escape through the target helper too', () => {
    expect(() => target.serviceDirectory('../outside')).toThrow();
  });

  it('does not follow symlinks out of the workspace', async () => {
    fs.symlinkSync(root.resolve('outside'), path.join(workspace, 'link'));
    const ctx = createMockActionContext({
      input: { name: 'linked' },
      workspacePath: workspace,
    });
    await createLocalPublishAction({ localTarget: target }).handler(ctx);
    expect(
      fs.existsSync(
        path.join(root.resolve('services'), 'linked', 'link', 'secret.txt'),
      ),
    ).toBe(false);
  });

  it('refuses to overwrite an existing service', async () => {
    root.addContent({ services: { orders: { 'keep.txt': 'mine' } } });
    const ctx = createMockActionContext({
      input: { name: 'orders' },
      workspacePath: workspace,
    });
    await expect(
      createLocalPublishAction({ localTarget: target }).handler(ctx),
    ).rejects.toThrow('A service named "orders" already exists');
    expect(
      fs.readdirSync(path.join(root.resolve('services'), 'orders')),
    ).toEqual(['keep.txt']);
  });

  it('writes nothing in a dry run', async () => {
    const ctx = {
      ...createMockActionContext({
        input: { name: 'orders' },
        workspacePath: workspace,
      }),
      isDryRun: true,
    };
    await createLocalPublishAction({ localTarget: target }).handler(ctx);
    expect(fs.readdirSync(root.resolve('services'))).toEqual([]);
  });
});
