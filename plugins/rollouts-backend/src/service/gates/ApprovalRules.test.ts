import { ConfigReader } from '@backstage/config';
import { ApprovalRules } from './ApprovalRules';

const rulesOf = (approvals: any) =>
  ApprovalRules.fromConfig(new ConfigReader({ rollouts: { approvals } }));

describe('ApprovalRules', () => {
  const prod = { cluster: 'production', namespace: 'shop' };
  const staging = { cluster: 'staging', namespace: 'shop' };

  it('protects the configured actions on the configured targets, with their expiry', () => {
    const rules = rulesOf({
      expiresAfter: '2h',
      rules: [
        { clusters: ['production'], actions: ['start', 'promote-full'] },
        {
          namespaces: ['payments'],
          actions: ['promote'],
          expiresAfter: { minutes: 30 },
        },
      ],
    });
    expect(rules.expiryFor('start', prod)).toBe(2 * 3_600_000);
    expect(rules.expiryFor('retry', prod)).toBe(2 * 3_600_000);
    expect(rules.expiryFor('promote-full', prod)).toBe(2 * 3_600_000);
    expect(rules.expiryFor('promote', prod)).toBeUndefined();
    expect(rules.expiryFor('abort', prod)).toBeUndefined();
    expect(rules.expiryFor('start', staging)).toBeUndefined();
    // `promote` means any promote, a full one included; the shorter expiry wins.
    const payments = { cluster: 'production', namespace: 'payments' };
    expect(rules.expiryFor('promote', payments)).toBe(30 * 60_000);
    expect(rules.expiryFor('promote-full', payments)).toBe(30 * 60_000);
  });

  it('defaults to 24 hours and to nothing protected', () => {
    expect(
      rulesOf({
        rules: [{ clusters: ['production'], actions: ['start'] }],
      }).expiryFor('start', prod),
    ).toBe(86_400_000);
    expect(
      ApprovalRules.fromConfig(new ConfigReader({})).expiryFor('start', prod),
    ).toBeUndefined();
  });

  it('refuses rules it cannot apply, naming the key', () => {
    expect(() =>
      rulesOf({ rules: [{ clusters: ['production'], actions: ['abort'] }] }),
    ).toThrow(
      'rollouts.approvals.rules[0].actions: "abort" is not one of start, promote-full, promote',
    );
    expect(() => rulesOf({ rules: [{ actions: ['start'] }] })).toThrow(
      'rollouts.approvals.rules[0] must name clusters or namespaces',
    );
  });
});
