import { stringify } from 'yaml';

/** A kubeconfig for one token user of the cluster at `server`, trusting its CA. */
export function tokenKubeconfig(
  server: string,
  ca: { data: string } | { file: string },
  user: string,
  token: string,
): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'kube-real',
        cluster: {
          server,
          ...('data' in ca
            ? {
                'certificate-authority-data': Buffer.from(ca.data).toString(
                  'base64',
                ),
              }
            : { 'certificate-authority': ca.file }),
        },
      },
    ],
    users: [{ name: user, user: { token } }],
    contexts: [
      { name: `${user}@kube-real`, context: { cluster: 'kube-real', user } },
    ],
    'current-context': `${user}@kube-real`,
  });
}
