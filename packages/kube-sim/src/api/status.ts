/** Kubernetes `Status` error bodies, shaped as kube-apiserver writes them. */

export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: {
      name?: string;
      group?: string;
      kind?: string;
      uid?: string;
      causes?: StatusCause[];
      retryAfterSeconds?: number;
    },
  ) {
    super(message);
  }

  toStatus() {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

function qualified(plural: string, group: string) {
  return group ? `${plural}.${group}` : plural;
}

export const errors = {
  badRequest: (message: string) => new ApiError(400, 'BadRequest', message),
  notFound: (plural: string, group: string, name: string) =>
    new ApiError(
      404,
      'NotFound',
      `${qualified(plural, group)} "${name}" not found`,
      {
        name,
        group: group || undefined,
        kind: plural,
      },
    ),
  unknownResource: () =>
    new ApiError(
      404,
      'NotFound',
      'the server could not find the requested resource',
      {},
    ),
  alreadyExists: (plural: string, group: string, name: string) =>
    new ApiError(
      409,
      'AlreadyExists',
      `${qualified(plural, group)} "${name}" already exists`,
      { name, group: group || undefined, kind: plural },
    ),
  conflict: (plural: string, group: string, name: string) =>
    new ApiError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${qualified(
        plural,
        group,
      )} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      { name, group: group || undefined, kind: plural },
    ),
  invalid: (kind: string, group: string, name: string, causes: StatusCause[]) =>
    new ApiError(
      422,
      'Invalid',
      `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${causes
        .map(c => `${c.field}: ${c.message}`)
        .join(', ')}`,
      { name, group: group || undefined, kind, causes },
    ),
  methodNotAllowed: (method: string) =>
    new ApiError(
      405,
      'MethodNotAllowed',
      `the server does not allow this method on the requested resource (${method})`,
    ),
  unsupportedMediaType: (type: string) =>
    new ApiError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got ${type})`,
    ),
  unprocessable: (message: string) =>
    new ApiError(422, 'UnprocessableEntity', message),
  gone: (message: string) => new ApiError(410, 'Expired', message),
  internal: (message: string) =>
    new ApiError(500, 'InternalError', `Internal error occurred: ${message}`),
  unavailable: (message: string) =>
    new ApiError(503, 'ServiceUnavailable', message, { retryAfterSeconds: 1 }),
};
