import { HttpAuthService } from '@backstage/backend-plugin-api';
import { CompoundEntityRef } from '@backstage/catalog-model';
import { promoteReleaseRequestSchema } from '@rust-delivery-portal/plugin-rollouts-common';
import { Request, Router } from 'express';
import { z } from 'zod';
import { ReleasePipelines } from './ReleasePipelines';
import { isApprovalRequested } from '../service/AuthorizedRollouts';

/**
 * `GET  /entities/:kind/:namespace/:name/pipeline` -> PipelineView;
 * `POST /entities/:kind/:namespace/:name/pipeline/promote` `{ stage, image?, reason? }` -> the
 * start's answer: 201 with the new stage's RolloutView, or 202 with the approval request.
 */
export function addPipelineRoutes(
  router: Router,
  options: {
    pipelines: ReleasePipelines;
    httpAuth: HttpAuthService;
    entityRefOf: (req: Request) => CompoundEntityRef;
    parse: <T extends z.ZodTypeAny>(
      schema: T,
      value: unknown,
      what: string,
    ) => z.infer<T>;
  },
) {
  const { pipelines, httpAuth, entityRefOf, parse } = options;

  router.get('/entities/:kind/:namespace/:name/pipeline', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    res.json(await pipelines.view(entityRefOf(req), credentials));
  });

  router.post(
    '/entities/:kind/:namespace/:name/pipeline/promote',
    async (req, res) => {
      const ref = entityRefOf(req);
      const body = parse(promoteReleaseRequestSchema, req.body, 'request');
      const credentials = await httpAuth.credentials(req);
      const result = await pipelines.promote({
        ref,
        credentials,
        body,
        request: req,
      });
      // A protected stage answers with the approval request another owner decides (202).
      res.status(isApprovalRequested(result) ? 202 : 201).json(result);
    },
  );
}
