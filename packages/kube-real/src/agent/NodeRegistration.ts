import { ApiClient, isStatus } from './ApiClient';

/** How often a node's Lease is renewed; the node lifecycle controller's grace period is 40 s. */
const LEASE_RENEW_MS = 10_000;
const LEASE_DURATION_SECONDS = 40;

function microTime(ms = Date.now()): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}

function seconds(ms = Date.now()): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

function nodeStatus(ip: string, name: string) {
  const now = seconds();
  const condition = (
    type: string,
    status: string,
    reason: string,
    message: string,
  ) => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: now,
    lastTransitionTime: now,
  });
  return {
    capacity: {
      cpu: '8',
      memory: '16Gi',
      pods: '110',
      'ephemeral-storage': '100Gi',
    },
    allocatable: {
      cpu: '8',
      memory: '16Gi',
      pods: '110',
      'ephemeral-storage': '100Gi',
    },
    conditions: [
      condition(
        'MemoryPressure',
        'False',
        'KubeletHasSufficientMemory',
        'simulated',
      ),
      condition(
        'DiskPressure',
        'False',
        'KubeletHasNoDiskPressure',
        'simulated',
      ),
      condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'simulated'),
      condition(
        'Ready',
        'True',
        'KubeletReady',
        'kubelet is posting ready status (simulated by the kube-real node agent)',
      ),
    ],
    addresses: [
      { type: 'InternalIP', address: ip },
      { type: 'Hostname', address: name },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      machineID: '',
      systemUUID: '',
      bootID: '',
      kernelVersion: 'n/a',
      osImage: 'kube-real node agent (simulated)',
      containerRuntimeVersion: 'containerd://simulated',
      kubeletVersion: 'v1.20.2-kube-real-agent',
      kubeProxyVersion: 'v1.20.2-kube-real-agent',
      operatingSystem: 'linux',
      architecture: 'amd64',
    },
  };
}

/**
 * One simulated node as a kubelet keeps it: the Node object with a Ready condition and capacity,
 * and its heartbeat, a Lease in kube-node-lease renewed every 10 s.
 */
export class NodeRegistration {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly api: ApiClient,
    readonly name: string,
    readonly ip: string,
    private readonly log: (line: string) => void,
  ) {}

  async register(): Promise<void> {
    const body = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: this.name,
        labels: {
          'kubernetes.io/hostname': this.name,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          type: 'kube-real-agent',
        },
        annotations: { 'node.alpha.kubernetes.io/ttl': '0' },
      },
      spec: {},
      status: nodeStatus(this.ip, this.name),
    };
    try {
      // A Node may be created with its status, as kubelets do.
      await this.api.request('POST', '/api/v1/nodes', body);
    } catch (e) {
      if (!isStatus(e, 409)) throw e;
      const current = await this.api.request(
        'GET',
        `/api/v1/nodes/${this.name}`,
      );
      await this.api.request('PUT', `/api/v1/nodes/${this.name}/status`, {
        ...current,
        status: { ...current.status, ...body.status },
      });
    }
    await this.renewLease();
    this.timer = setInterval(
      () =>
        this.renewLease().catch(e =>
          this.log(`kube-real agent: lease of ${this.name}: ${e.message}`),
        ),
      LEASE_RENEW_MS,
    );
    this.timer.unref();
  }

  private async renewLease(): Promise<void> {
    const path = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${this.name}`;
    const spec = {
      holderIdentity: this.name,
      leaseDurationSeconds: LEASE_DURATION_SECONDS,
      renewTime: microTime(),
    };
    try {
      const lease = await this.api.request('GET', path);
      await this.api.request('PUT', path, {
        ...lease,
        spec: { ...lease.spec, ...spec },
      });
    } catch (e) {
      if (!isStatus(e, 404)) throw e;
      const node = await this.api.request('GET', `/api/v1/nodes/${this.name}`);
      await this.api.request(
        'POST',
        '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases',
        {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: {
            name: this.name,
            namespace: 'kube-node-lease',
            ownerReferences: [
              {
                apiVersion: 'v1',
                kind: 'Node',
                name: this.name,
                uid: node.metadata.uid,
              },
            ],
          },
          spec,
        },
      );
    }
  }

  /** Schedulable once the node lifecycle controller has lifted the not-ready taint of a new node. */
  async schedulable(): Promise<boolean> {
    const node = await this.api.request('GET', `/api/v1/nodes/${this.name}`);
    return !(node.spec?.taints ?? []).some((t: any) =>
      String(t.key).startsWith('node.kubernetes.io/'),
    );
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
  }
}
