import type { CompoundEntityRef } from '@backstage/catalog-model';
import type { DiscoveryApi, FetchApi } from '@backstage/core-plugin-api';
import { ResponseError } from '@backstage/errors';
import type {
  PipelineView,
  PromoteReleaseRequest,
  ApprovalDecisionRequest,
  ApprovalsListResponse,
  ApprovalView,
  RolloutAction,
  RolloutActionRequest,
  RolloutHistoryEvent,
  RolloutHistoryResponse,
  RolloutsListResponse,
  RolloutView,
  StartRolloutRequest,
} from '@rust-delivery-portal/plugin-rollouts-common';
import type { MutationAnswer, RolloutsApi } from './RolloutsApi';

/**
 * Talks to the rollouts backend (plugin id `rollouts`) through the app's discovery and fetch APIs,
 * so the user's Backstage token travels with every request.
 * @public
 */
export class RolloutsClient implements RolloutsApi {
  private readonly discoveryApi: DiscoveryApi;
  private readonly fetchApi: FetchApi;

  constructor(options: { discoveryApi: DiscoveryApi; fetchApi: FetchApi }) {
    this.discoveryApi = options.discoveryApi;
    this.fetchApi = options.fetchApi;
  }

  async getRollouts(entity: CompoundEntityRef): Promise<RolloutView[]> {
    const body = await this.request<RolloutsListResponse>(entity, 'rollouts');
    return body.items;
  }

  async getHistory(entity: CompoundEntityRef): Promise<RolloutHistoryEvent[]> {
    const body = await this.request<RolloutHistoryResponse>(entity, 'history');
    return body.items;
  }

  async startRollout(
    entity: CompoundEntityRef,
    request: StartRolloutRequest,
  ): Promise<MutationAnswer> {
    return this.request<MutationAnswer>(entity, 'rollouts', request);
  }

  async runAction(
    entity: CompoundEntityRef,
    action: RolloutAction,
    request: RolloutActionRequest,
  ): Promise<MutationAnswer> {
    return this.request<MutationAnswer>(
      entity,
      `actions/${encodeURIComponent(action)}`,
      request,
    );
  }

  async getPipeline(entity: CompoundEntityRef): Promise<PipelineView> {
    return this.request<PipelineView>(entity, 'pipeline');
  }

  async promoteRelease(
    entity: CompoundEntityRef,
    request: PromoteReleaseRequest,
  ): Promise<MutationAnswer> {
    return this.request<MutationAnswer>(entity, 'pipeline/promote', request);
  }

  async getApprovals(entity: CompoundEntityRef): Promise<ApprovalView[]> {
    const ref = `${entity.kind}:${entity.namespace}/${entity.name}`;
    const body = await this.send<ApprovalsListResponse>(
      `approvals?entityRef=${encodeURIComponent(
        ref.toLocaleLowerCase('en-US'),
      )}`,
    );
    return body.items;
  }

  async approve(id: string, request: ApprovalDecisionRequest) {
    return this.send<{ approval: ApprovalView; rollout: RolloutView }>(
      `approvals/${encodeURIComponent(id)}/approve`,
      request,
    );
  }

  async deny(id: string, request: Pick<ApprovalDecisionRequest, 'reason'>) {
    return this.send<{ approval: ApprovalView }>(
      `approvals/${encodeURIComponent(id)}/deny`,
      request,
    );
  }

  private async request<T = unknown>(
    entity: CompoundEntityRef,
    path: string,
    body?: object,
  ): Promise<T> {
    // Kind and namespace are case-insensitive in entity refs; send them in canonical lower case.
    const entityPath = [
      entity.kind.toLocaleLowerCase('en-US'),
      entity.namespace.toLocaleLowerCase('en-US'),
      entity.name,
    ]
      .map(part => encodeURIComponent(part))
      .join('/');
    return this.send<T>(`entities/${entityPath}/${path}`, body);
  }

  /** GET without a body, POST with one; a Backstage error response throws ResponseError. */
  private async send<T>(path: string, body?: object): Promise<T> {
    const baseUrl = await this.discoveryApi.getBaseUrl('rollouts');
    const response = await this.fetchApi.fetch(
      `${baseUrl}/${path}`,
      body === undefined
        ? undefined
        : {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify(body),
          },
    );
    if (!response.ok) {
      throw await ResponseError.fromResponse(response);
    }
    if (response.status === 204) {
      return undefined as T;
    }
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }
}
