import { jsonPatch, mergePatch, strategicMerge } from './patch';

describe('patch', () => {
  it('merge patch deletes nulls and replaces lists', () => {
    expect(
      mergePatch(
        { a: 1, b: { c: 2, d: 3 }, l: [1, 2] },
        { b: { c: null }, l: [3] },
      ),
    ).toEqual({
      a: 1,
      b: { d: 3 },
      l: [3],
    });
  });

  it('JSON patch supports add, remove, replace, move, copy and test', () => {
    const doc = { a: [1, 2], b: { c: 1 } };
    expect(
      jsonPatch(doc, [
        { op: 'add', path: '/a/-', value: 3 },
        { op: 'replace', path: '/b/c', value: 2 },
        { op: 'copy', from: '/b', path: '/d' },
        { op: 'move', from: '/d/c', path: '/e' },
        { op: 'remove', path: '/a/0' },
        { op: 'test', path: '/e', value: 2 },
      ]),
    ).toEqual({ a: [2, 3], b: { c: 2 }, d: {}, e: 2 });
    expect(doc).toEqual({ a: [1, 2], b: { c: 1 } });
    expect(() => jsonPatch(doc, [{ op: 'remove', path: '/zzz' }])).toThrow();
  });

  it('strategic merge merges by keys, honours directives and replaces keyless lists', () => {
    const original = {
      spec: {
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } },
        template: {
          spec: {
            containers: [
              {
                name: 'a',
                image: 'a:1',
                ports: [{ containerPort: 80, name: 'http' }],
                args: ['x'],
              },
              { name: 'b', image: 'b:1' },
            ],
          },
        },
      },
      metadata: { finalizers: ['one'] },
    };
    const patched = strategicMerge(original, {
      metadata: { finalizers: ['two'] },
      spec: {
        strategy: {
          $retainKeys: ['type'],
          type: 'Recreate',
          rollingUpdate: null,
        },
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }],
            containers: [
              {
                name: 'a',
                image: 'a:2',
                ports: [{ containerPort: 81 }],
                args: ['y'],
              },
              { name: 'b', $patch: 'delete' },
              { name: 'c', image: 'c:1' },
            ],
          },
        },
      },
    });
    expect(patched.spec.strategy).toEqual({ type: 'Recreate' });
    expect(patched.metadata.finalizers).toEqual(['one', 'two']);
    expect(patched.spec.template.spec.containers).toEqual([
      {
        name: 'a',
        image: 'a:2',
        ports: [{ containerPort: 80, name: 'http' }, { containerPort: 81 }],
        args: ['y'],
      },
      { name: 'c', image: 'c:1' },
    ]);
  });
});
