import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Files the API server and its clients are given, and the CA's PEM for clients. */
export interface ClusterCertificates {
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  serviceAccountPublicKey: string;
  serviceAccountPrivateKey: string;
  /** The CA certificate (PEM) clients trust. */
  caData: string;
}

/**
 * A throw-away CA (valid two days) and the API server's serving certificate for loopback and the
 * in-cluster names, made with openssl because Node's crypto signs no certificates; the
 * service-account signing key pair from Node's crypto.
 */
export function createCertificates(
  dir: string,
  serviceIp: string,
): ClusterCertificates {
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) =>
    execFileSync('openssl', args, {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  const ec = [
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
  ];
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=kube-real-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
  );
  openssl(
    'req',
    '-new',
    ...ec,
    '-keyout',
    'apiserver.key',
    '-out',
    'apiserver.csr',
    '-subj',
    '/CN=kube-apiserver',
  );
  const names = [
    'localhost',
    'kubernetes',
    'kubernetes.default',
    'kubernetes.default.svc',
    'kubernetes.default.svc.cluster.local',
  ];
  writeFileSync(
    file('apiserver.ext'),
    [
      `subjectAltName=IP:127.0.0.1,IP:${serviceIp},${names
        .map(n => `DNS:${n}`)
        .join(',')}`,
      'extendedKeyUsage=serverAuth',
      'keyUsage=critical,digitalSignature,keyEncipherment',
    ].join('\n'),
  );
  openssl(
    'x509',
    '-req',
    '-in',
    'apiserver.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'apiserver.crt',
    '-days',
    '2',
    '-extfile',
    'apiserver.ext',
  );
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  writeFileSync(file('sa.pub'), publicKey);
  writeFileSync(file('sa.key'), privateKey, { mode: 0o600 });
  return {
    caCert: file('ca.crt'),
    caKey: file('ca.key'),
    servingCert: file('apiserver.crt'),
    servingKey: file('apiserver.key'),
    serviceAccountPublicKey: file('sa.pub'),
    serviceAccountPrivateKey: file('sa.key'),
    caData: readFileSync(file('ca.crt'), 'utf8'),
  };
}
