import { ConfigReader } from '@backstage/config';
import { readRolloutClusters } from './clusters';

describe('readRolloutClusters', () => {
  it("reads each cluster's Prometheus from its rollouts.clusters entry, and none where it says none", () => {
    const clusters = readRolloutClusters(
      new ConfigReader({
        kubernetes: {
          clusterLocatorMethods: [
            {
              type: 'config',
              clusters: [
                { name: 'production', url: 'https://k8s.example.com' },
                { name: 'staging', url: 'https://staging.example.com' },
              ],
            },
          ],
        },
        rollouts: {
          clusters: [
            {
              name: 'production',
              serviceAccountToken: 'writer',
              prometheus: { url: 'http://prometheus.monitoring:9090' },
            },
            { name: 'staging', serviceAccountToken: 'staging-writer' },
          ],
        },
      }),
    );
    expect(clusters.map(c => [c.name, c.prometheusUrl, c.writerToken])).toEqual(
      [
        ['production', 'http://prometheus.monitoring:9090', 'writer'],
        ['staging', undefined, 'staging-writer'],
      ],
    );
  });
});
