import { Entity } from '@backstage/catalog-model';
import { parseLabelSelector, workloadSelectorFor } from './selectors';

const entity = (annotations: Record<string, string>): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'payments', annotations },
});

describe('workloadSelectorFor', () => {
  it('matches the kubernetes-id label', () => {
    const s = workloadSelectorFor(
      entity({ 'backstage.io/kubernetes-id': 'payments' }),
    )!;
    expect(s.matches({ 'backstage.io/kubernetes-id': 'payments' })).toBe(true);
    expect(s.matches({ 'backstage.io/kubernetes-id': 'other' })).toBe(false);
    expect(s.namespace).toBeUndefined();
  });

  it('prefers the label selector annotation and honours the namespace', () => {
    const s = workloadSelectorFor(
      entity({
        'backstage.io/kubernetes-id': 'payments',
        'backstage.io/kubernetes-label-selector':
          'app=pay,tier in (web,api),!legacy',
        'backstage.io/kubernetes-namespace': 'shop',
      }),
    )!;
    expect(s.namespace).toBe('shop');
    expect(s.matches({ app: 'pay', tier: 'api' })).toBe(true);
    expect(s.matches({ app: 'pay', tier: 'db' })).toBe(false);
    expect(s.matches({ app: 'pay', tier: 'web', legacy: 'yes' })).toBe(false);
    expect(s.matches({ 'backstage.io/kubernetes-id': 'payments' })).toBe(false);
  });

  it.each(['!x', 'a!=b', 'tier notin (db)', '!x,a!=b'])(
    'refuses %s, a selector that matches nearly every object',
    selector => {
      expect(() =>
        workloadSelectorFor(
          entity({ 'backstage.io/kubernetes-label-selector': selector }),
        ),
      ).toThrow(/matches nearly every object/);
    },
  );

  it('accepts a negation beside a requirement that needs a label', () => {
    const s = workloadSelectorFor(
      entity({ 'backstage.io/kubernetes-label-selector': 'app,!legacy' }),
    )!;
    expect(s.matches({ app: '' })).toBe(true);
    expect(s.matches({})).toBe(false);
  });

  it('returns nothing without annotations', () => {
    expect(workloadSelectorFor(entity({}))).toBeUndefined();
  });
});

describe('parseLabelSelector', () => {
  it('supports !=, == and existence', () => {
    const reqs = parseLabelSelector('a==1,b!=2,c');
    const ok = (l: Record<string, string>) => reqs.every(r => r.test(l));
    expect(ok({ a: '1', b: '3', c: '' })).toBe(true);
    expect(ok({ a: '1', b: '2', c: '' })).toBe(false);
    expect(ok({ a: '1' })).toBe(false);
  });

  it('rejects nonsense', () => {
    expect(() => parseLabelSelector('a=b=c')).toThrow(
      /Cannot parse label selector/,
    );
  });
});
