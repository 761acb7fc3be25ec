import { ConfigReader } from '@backstage/config';
import { Entity } from '@backstage/catalog-model';
import { pipelineOf, readPipelineDefaults } from './declaration';

function entity(pipeline?: string): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: {
      name: 'checkout-api',
      annotations: pipeline
        ? { 'rollouts.backstage.io/pipeline': pipeline }
        : {},
    },
  };
}

const defaults = readPipelineDefaults(
  new ConfigReader({
    rollouts: {
      pipelines: {
        stages: [
          { cluster: 'staging', soak: '10m', promotion: 'auto' },
          { cluster: 'production', promotion: 'auto' },
        ],
      },
    },
  }),
);

describe('pipelineOf', () => {
  it('reads the YAML annotation; stages take soak and promotion from the default stage of their cluster', () => {
    const declared = pipelineOf(
      entity(
        '- cluster: staging\n  soak: 90s\n- cluster: production\n  namespace: shop\n',
      ),
      defaults,
    );
    expect(declared).toEqual({
      source: 'annotation',
      stages: [
        {
          name: 'staging',
          cluster: 'staging',
          soakSeconds: 90,
          promotion: 'manual',
        },
        {
          name: 'production/shop',
          cluster: 'production',
          namespace: 'shop',
          soakSeconds: 0,
          promotion: 'auto',
        },
      ],
    });
  });

  it('reads JSON, and the first stage is never promoted into (a normal start begins there)', () => {
    const declared = pipelineOf(
      entity(
        '[{"name":"stg","cluster":"staging","promotion":"auto"},{"cluster":"production","soak":"1h","promotion":"manual"}]',
      ),
      { stages: [] },
    );
    expect(
      declared.stages.map(s => [s.name, s.soakSeconds, s.promotion]),
    ).toEqual([
      ['stg', 0, 'manual'],
      ['production', 3600, 'manual'],
    ]);
  });

  it('falls back to the default order, and to none', () => {
    expect(pipelineOf(entity(), defaults)).toEqual({
      source: 'config',
      stages: defaults.stages,
    });
    expect(defaults.stages[0]).toMatchObject({
      soakSeconds: 600,
      promotion: 'manual',
    });
    expect(pipelineOf(entity(), { stages: [] }).stages).toEqual([]);
  });

  it('names what is wrong in an annotation it cannot read', () => {
    expect(
      pipelineOf(entity('[{"cluster": "staging", "soak": "soon"}]'), defaults)
        .error,
    ).toMatch(/stage 1 has soak "soon", which is not a duration/);
    expect(pipelineOf(entity('{stages: [}'), defaults).error).toMatch(
      /is not YAML or JSON/,
    );
    expect(
      pipelineOf(
        entity('[{"cluster": "a", "promotion": "sometimes"}]'),
        defaults,
      ).error,
    ).toMatch(/0\.promotion/);
    expect(
      pipelineOf(entity('[{"cluster":"a"},{"cluster":"a"}]'), defaults).error,
    ).toMatch(/two stages are called "a"/);
  });

  it('refuses a default order it cannot read, with its reason', () => {
    expect(() =>
      readPipelineDefaults(
        new ConfigReader({
          rollouts: { pipelines: { stages: [{ soak: '1m' }] } },
        }),
      ),
    ).toThrow(/rollouts.pipelines.stages is not a list of stages: 0.cluster/);
  });
});
