import { V1Pod } from '@kubernetes/client-node';
import { ObjectIndex } from './ObjectIndex';

function pod(name: string, namespace: string, owner?: string): V1Pod {
  return {
    metadata: {
      name,
      namespace,
      ownerReferences: owner
        ? [
            {
              apiVersion: 'v1',
              kind: 'Node',
              name: 'n',
              uid: 'not-controller',
            },
            {
              apiVersion: 'apps/v1',
              kind: 'ReplicaSet',
              name: owner,
              uid: `uid-${owner}`,
              controller: true,
            },
          ]
        : undefined,
    },
  };
}

describe('ObjectIndex', () => {
  it('finds objects by namespace and by controlling owner, and forgets them on delete', () => {
    const index = new ObjectIndex<V1Pod>();
    index.put(pod('a', 'shop', 'rs1'));
    index.put(pod('b', 'shop', 'rs1'));
    index.put(pod('c', 'shop', 'rs2'));
    index.put(pod('d', 'other'));
    expect(
      index
        .list('shop')
        .map(p => p.metadata!.name)
        .sort(),
    ).toEqual(['a', 'b', 'c']);
    expect(index.list().length).toBe(4);
    expect(
      index
        .ownedBy('uid-rs1')
        .map(p => p.metadata!.name)
        .sort(),
    ).toEqual(['a', 'b']);
    expect(index.ownedBy('not-controller')).toEqual([]);

    index.delete('shop/a');
    expect(index.ownedBy('uid-rs1').map(p => p.metadata!.name)).toEqual(['b']);
    expect(index.get('shop', 'a')).toBeUndefined();
    expect(index.size).toBe(3);
  });

  it('moves an object between owners when a newer version names another', () => {
    const index = new ObjectIndex<V1Pod>();
    index.put(pod('a', 'shop', 'rs1'));
    index.put(pod('a', 'shop', 'rs2'));
    expect(index.ownedBy('uid-rs1')).toEqual([]);
    expect(index.ownedBy('uid-rs2').map(p => p.metadata!.name)).toEqual(['a']);
    expect(index.list('shop')).toHaveLength(1);
  });
});
