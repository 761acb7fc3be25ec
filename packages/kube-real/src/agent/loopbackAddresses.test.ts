import { allocateLoopbackPodIp, loopbackNodeIp } from './loopbackAddresses';

describe('loopback addresses', () => {
  it('gives every pod its own address in 127.0.0.0/8, never 127.0.0.x', () => {
    const ips = Array.from({ length: 70_000 }, () => allocateLoopbackPodIp());
    expect(new Set(ips).size).toBe(ips.length);
    // 127.1.0.1 and up: inside 127.0.0.0/8, outside 127.0.0.0/16 where local services listen.
    const outside = ips.filter(
      ip =>
        !/^127\.([1-9]\d?|1\d\d|2[0-4]\d|25[0-5])\.\d{1,3}\.([1-9]\d?|1\d\d|2[0-4]\d|25[0-4])$/.test(
          ip,
        ),
    );
    expect(outside).toEqual([]);
  });

  it('puts nodes in 127.0.1.0/24', () => {
    expect(loopbackNodeIp(0)).toBe('127.0.1.1');
    expect(loopbackNodeIp(2)).toBe('127.0.1.3');
  });
});
