/**
 * Addresses for simulated pods and nodes, all in 127.0.0.0/8: a client that follows a pod IP
 * (from Endpoints, a pod's status, a log line) reaches this machine's loopback and nothing else,
 * never a private network. Node addresses are 127.0.1.x; pod addresses start at 127.1.0.1.
 */
let nextPod = 0;

export function allocateLoopbackPodIp(): string {
  const n = nextPod++;
  const a = 1 + (Math.floor(n / (256 * 254)) % 254);
  const b = Math.floor(n / 254) % 256;
  const c = (n % 254) + 1;
  return `127.${a}.${b}.${c}`;
}

export function loopbackNodeIp(index: number): string {
  return `127.0.1.${(index % 254) + 1}`;
}
