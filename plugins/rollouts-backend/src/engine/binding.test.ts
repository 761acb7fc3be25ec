import { ROLLOUT_ANNOTATIONS } from '@rust-delivery-portal/plugin-rollouts-common';
import { bindingOf, boundEntityOf } from './binding';

const object = (name: string, entity?: string, namespace?: string) => ({
  metadata: {
    name,
    ...(namespace ? { namespace } : {}),
    ...(entity !== undefined
      ? { annotations: { [ROLLOUT_ANNOTATIONS.entity]: entity } }
      : {}),
  },
});
const workload = (entity?: string) => object('api', entity, 'shop');
const namespace = (entity?: string) => object('shop', entity);
const ME = 'component:default/api';

describe('bindingOf', () => {
  it('binds a workload that names the entity, whatever the case', () => {
    expect(bindingOf(workload('Component:Default/API'), undefined, ME)).toEqual(
      { status: 'bound', entityRefs: [ME] },
    );
  });

  it('says whom a workload belongs to when it names another entity', () => {
    expect(
      bindingOf(workload('component:default/other'), undefined, ME),
    ).toMatchObject({
      status: 'elsewhere',
      entityRefs: ['component:default/other'],
      message: expect.stringContaining('belongs to component:default/other'),
    });
  });

  it('leaves a workload that names nobody unbound', () => {
    expect(bindingOf(workload(), undefined, ME)).toMatchObject({
      status: 'unbound',
    });
    expect(bindingOf(workload(), namespace(), ME).status).toBe('unbound');
  });

  it('binds through a namespace that holds one entity', () => {
    expect(bindingOf(workload(), namespace(ME), ME).status).toBe('bound');
    expect(
      bindingOf(workload(), namespace('component:default/other'), ME).status,
    ).toBe('elsewhere');
  });

  it('needs the workload to say when its namespace holds several entities', () => {
    const shared = namespace(`${ME}, component:default/other`);
    expect(bindingOf(workload(), shared, ME)).toMatchObject({
      status: 'unbound',
      message: expect.stringContaining('holds the workloads of several'),
    });
    expect(bindingOf(workload(ME), shared, ME).status).toBe('bound');
  });

  it.each([
    [
      'names two entities',
      workload(`${ME},component:default/other`),
      undefined,
    ],
    [
      'names an entity its namespace does not hold',
      workload(ME),
      namespace('component:default/other'),
    ],
    ['has an annotation that is not an entity ref', workload(':::'), undefined],
    ['has an empty annotation', workload(' , '), undefined],
  ])('refuses a workload that %s', (_what, w, ns) => {
    expect(bindingOf(w, ns, ME).status).toBe('contested');
    expect(boundEntityOf(w, ns)).toBeUndefined();
  });

  it('finds the one entity a workload is bound to', () => {
    expect(boundEntityOf(workload(ME), undefined)).toBe(ME);
    expect(boundEntityOf(workload(), namespace(ME))).toBe(ME);
    expect(boundEntityOf(workload(), undefined)).toBeUndefined();
  });
});
