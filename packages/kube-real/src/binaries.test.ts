import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binDir, cacheRoot, locateBinaries } from './binaries';

describe('locateBinaries', () => {
  it('says how to build the control plane when the cache has no binaries', () => {
    const empty = mkdtempSync(join(tmpdir(), 'kube-real-empty-'));
    try {
      expect(() => locateBinaries(empty)).toThrow(
        /missing .*kube-apiserver.*Run packages\/kube-real\/scripts\/build\.sh once/s,
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('keys the cache by version, outside the repository', () => {
    expect(cacheRoot({ HOME: '/home/dev' })).toBe(
      '/home/dev/.cache/rust-delivery-portal/kube-real',
    );
    expect(binDir({ KUBE_REAL_CACHE: '/var/cache/kr' })).toBe(
      '/var/cache/kr/v1.20.2-b3/bin',
    );
  });
});
