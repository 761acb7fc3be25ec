import {
  createMockDirectory,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import scaffolderModuleRust from '@rust-delivery-portal/plugin-scaffolder-backend-module-rust';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import {
  DryRun,
  startScaffolder,
  TEMPLATE_DIR,
  VALID_VALUES,
} from '../harness/scaffolder';
import {
  brokenToml,
  brokenYaml,
  escapingPaths,
  expressions,
  runScripts,
} from './checks';

jest.setTimeout(240_000);

/** Hostile strings: quotes, newlines, traversal, YAML specials, template and Actions expressions. */
const HOSTILE_STRINGS = [
  `'; rm -rf / #`,
  `a"b\\"c`,
  'line1\nline2: injected\n  - list',
  'x\r\nkind: Secret',
  '../../../../etc/passwd',
  '..',
  '/etc/passwd',
  '- item',
  '{a: 1}',
  '[1, 2]',
  '&anchor *alias',
  '!!python/object:os.system',
  '? key',
  '|\n  block',
  '--- \n...',
  'null',
  'yes',
  '~',
  '#comment',
  '@at `tick`',
  '${{ secrets.GITHUB_TOKEN }}',
  '${{ github.event.pull_request.title }}',
  'x${{ values.name }}y',
  '{{ 7 * 7 }}',
  '{% raw %}{% endraw %}',
  '\u2028\u2029',
  'tab\there',
  'del\u007fchar',
  'é 日本 🦀',
  'y'.repeat(5000),
];
const HOSTILE_NON_STRINGS: unknown[] = [
  42,
  -1,
  1.5,
  true,
  null,
  [],
  {},
  ['a'],
  { $ne: 1 },
];

/** Every parameter of the template, with the base values it needs to be in effect. */
function templateParameters(): Array<{
  name: string;
  base: Record<string, unknown>;
}> {
  const template = parse(
    fs.readFileSync(path.join(TEMPLATE_DIR, 'template.yaml'), 'utf8'),
  );
  const found = new Map<string, Record<string, unknown>>();
  for (const page of template.spec.parameters) {
    for (const name of Object.keys(page.properties ?? {})) found.set(name, {});
    for (const [key, dep] of Object.entries<any>(page.dependencies ?? {})) {
      for (const branch of dep.oneOf ?? []) {
        const selector = branch.properties?.[key]?.const;
        for (const name of Object.keys(branch.properties ?? {})) {
          if (name !== key) found.set(name, { [key]: selector });
        }
      }
    }
  }
  return [...found].map(([name, base]) => ({ name, base }));
}

describe('template input: hostile values for every parameter of rust-service', () => {
  const root = createMockDirectory();
  let scaffolder: Awaited<ReturnType<typeof startScaffolder>>;
  let baselineExpressions: string[];
  const figures = {
    runs: 0,
    refused: 0,
    rendered: 0,
    parameters: [] as string[],
    cargoTomls: [] as string[],
  };

  beforeAll(async () => {
    root.setContent({
      work: {},
      local: {},
      outside: { 'sentinel.txt': 'untouched' },
    });
    scaffolder = await startScaffolder({
      workingDirectory: root.resolve('work'),
      localDirectory: root.resolve('local'),
    });
    const baseline = await scaffolder.dryRun(VALID_VALUES);
    baselineExpressions = expressions(
      baseline.files.get('.github/workflows/ci.yaml') ?? '',
    );
    if (baseline.status !== 200 || baselineExpressions.length < 5) {
      throw new Error(
        `The valid baseline run failed: ${baseline.status} ${baseline.error}`,
      );
    }
  });

  afterAll(async () => {
    console.log(
      `[reliability] template input: ${JSON.stringify({
        ...figures,
        cargoTomls: figures.cargoTomls.length,
      })}`,
    );
    await scaffolder?.stop();
  });

  /** What must hold for any run: refused with a message, or rendered safely. */
  function assertSafe(label: string, value: unknown, run: DryRun) {
    figures.runs++;
    if (run.status !== 200 || run.error) {
      figures.refused++;
      expect({
        label,
        refusedWithMessage:
          (run.status >= 400 && run.status < 500) || !!run.error,
      }).toEqual({ label, refusedWithMessage: true });
      return;
    }
    figures.rendered++;
    expect({ label, escaping: escapingPaths(run.files) }).toEqual({
      label,
      escaping: [],
    });
    expect({ label, brokenYaml: brokenYaml(run.files) }).toEqual({
      label,
      brokenYaml: [],
    });
    const cargo = run.files.get('Cargo.toml');
    if (cargo) figures.cargoTomls.push(cargo);
    const ci = run.files.get('.github/workflows/ci.yaml')!;
    // No value adds, removes or changes a GitHub Actions expression anywhere in the workflow
    // (env values are evaluated too), and no run: line holds an expression at all.
    expect({ label, expressions: expressions(ci) }).toEqual({
      label,
      expressions: baselineExpressions,
    });
    const workflow = parse(ci);
    for (const script of runScripts(workflow)) {
      expect({ label, script: script.includes('${{') }).toEqual({
        label,
        script: false,
      });
      if (typeof value === 'string' && value.length > 3) {
        expect({ label, valueInRun: script.includes(value) }).toEqual({
          label,
          valueInRun: false,
        });
      }
    }
    // Values that reach catalog-info.yaml arrive as the same string, not as YAML structure.
    const entity = parse(run.files.get('catalog-info.yaml')!);
    expect(entity.kind).toBe('Component');
    expect(Object.keys(entity).sort()).toEqual([
      'apiVersion',
      'kind',
      'metadata',
      'spec',
    ]);
    if (label.startsWith('description=') && typeof value === 'string')
      expect(entity.metadata.description).toBe(value);
    if (label.startsWith('owner=') && typeof value === 'string')
      expect(entity.spec.owner).toBe(value);
  }

  it('covers every parameter of template.yaml', () => {
    const names = templateParameters()
      .map(p => p.name)
      .sort();
    expect(names).toEqual(
      expect.arrayContaining([
        'name',
        'description',
        'owner',
        'system',
        'port',
        'strategy',
        'cluster',
        'namespace',
        'imageRepository',
        'canarySteps',
        'autoPromotion',
        'scaleDownDelay',
        'target',
        'repoUrl',
      ]),
    );
  });

  it.each(templateParameters())(
    '$name: refuses or renders safely every hostile value',
    async ({ name, base }) => {
      figures.parameters.push(name);
      const values = [...HOSTILE_STRINGS, ...HOSTILE_NON_STRINGS];
      const runs = await Promise.all(
        values.map(async value => {
          const input = { ...VALID_VALUES, ...base, [name]: value };
          if (name === 'repoUrl' || base.target === 'github')
            input.target = 'github';
          return { value, run: await scaffolder.dryRun(input) };
        }),
      );
      expect(runs).toHaveLength(values.length);
      for (const { value, run } of runs) {
        assertSafe(`${name}=${JSON.stringify(value).slice(0, 60)}`, value, run);
      }
    },
  );

  it('keeps every generated Cargo.toml valid TOML', () => {
    expect(figures.cargoTomls.length).toBeGreaterThan(0);
    expect(brokenToml(figures.cargoTomls)).toEqual([]);
  });

  it('never wrote outside its workspace: the local target got nothing from dry runs, the sentinel is alone', () => {
    expect(root.content({ path: root.resolve('outside') })).toEqual({
      'sentinel.txt': 'untouched',
    });
    expect(root.content({ path: root.resolve('local') })).toEqual({});
    expect(fs.readdirSync(root.path).sort()).toEqual([
      'local',
      'outside',
      'work',
    ]);
  });
});

describe('template actions that touch the file system refuse to leave their folders', () => {
  const root = createMockDirectory();

  async function actions(localDirectory: string) {
    // The module's actions as the scaffolder gets them, built from its public module.
    const added: any[] = [];
    await startTestBackend({
      extensionPoints: [
        [
          scaffolderActionsExtensionPoint,
          { addActions: (...a: any[]) => added.push(...a) },
        ],
      ],
      features: [
        scaffolderModuleRust,
        mockServices.rootConfig.factory({
          data: {
            rustTemplate: { localTarget: { directory: localDirectory } },
          },
        }),
        catalogServiceMock.factory(),
      ],
    });
    return Object.fromEntries(added.map(a => [a.id, a]));
  }

  const TRAVERSALS = [
    '../escape',
    '../../escape',
    '/tmp/escape',
    'a/../../escape',
    '..',
    '.',
    'a/b',
    'sub\\..\\..\\x',
    '%2e%2e',
    '',
    ' ',
    'orders\n../x',
  ];

  it('rust:local:publish (not a dry run) and rust:manifests:render refuse every traversal', async () => {
    root.setContent({
      local: {},
      workspace: {
        'catalog-info.yaml': 'kind: Component\nmetadata:\n  name: x\n',
      },
      outside: {},
    });
    const byId = await actions(root.resolve('local'));
    expect(Object.keys(byId)).toEqual(
      expect.arrayContaining([
        'rust:local:publish',
        'rust:manifests:render',
        'rust:catalog:register-file',
      ]),
    );
    let refused = 0;
    for (const name of TRAVERSALS) {
      const ctx = createMockActionContext({
        input: { name },
        workspacePath: root.resolve('workspace'),
      });
      await expect(byId['rust:local:publish'].handler(ctx)).rejects.toThrow();
      refused++;
    }
    for (const directory of [
      '../escape',
      '/tmp/reliability-escape',
      'a/../../escape',
    ]) {
      const ctx = createMockActionContext({
        input: { ...VALID_VALUES, strategy: 'RollingUpdate', directory },
        workspacePath: root.resolve('workspace'),
      });
      await expect(
        byId['rust:manifests:render'].handler(ctx),
      ).rejects.toThrow();
      refused++;
    }
    for (const file of [
      '/etc/passwd',
      root.resolve('outside/catalog-info.yaml'),
      `${root.resolve('local')}/../outside/x.yaml`,
      'relative.yaml',
    ]) {
      const ctx = createMockActionContext({ input: { path: file } });
      await expect(
        byId['rust:catalog:register-file'].handler(ctx),
      ).rejects.toThrow();
      refused++;
    }
    console.log(
      `[reliability] template file-system actions: ${JSON.stringify({
        attempts: refused,
        refused,
      })}`,
    );
    expect(root.content({ path: root.resolve('outside') })).toEqual({});
    expect(root.content({ path: root.resolve('local') })).toEqual({});
    expect(fs.existsSync('/tmp/reliability-escape')).toBe(false);
    expect(fs.existsSync(path.resolve(root.path, '..', 'escape'))).toBe(false);
  });
});
