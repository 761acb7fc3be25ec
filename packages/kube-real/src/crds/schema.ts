/** Small builders for the OpenAPI v3 schemas of our CustomResourceDefinitions (structural). */

export type Schema = Record<string, unknown>;

/** An object whose unlisted fields are kept as they are (what a full schema is not needed for). */
export const open = (properties: Record<string, Schema> = {}): Schema => ({
  type: 'object',
  'x-kubernetes-preserve-unknown-fields': true,
  ...(Object.keys(properties).length ? { properties } : {}),
});

export const str = (extra: Schema = {}): Schema => ({
  type: 'string',
  ...extra,
});

export const int = (extra: Schema = {}): Schema => ({
  type: 'integer',
  ...extra,
});

export const list = (items: Schema, extra: Schema = {}): Schema => ({
  type: 'array',
  items,
  ...extra,
});

export const obj = (
  properties: Record<string, Schema>,
  extra: Schema = {},
): Schema => ({ type: 'object', properties, ...extra });

/** A DNS-1123 subdomain, as object names are (the Gateway API's ObjectName). */
export const objectName = (): Schema => str({ minLength: 1, maxLength: 253 });

/** A CustomResourceDefinition of one served, stored version with the status subresource. */
export function crd(options: {
  group: string;
  version: string;
  kind: string;
  plural: string;
  shortNames?: string[];
  categories?: string[];
  spec: Schema;
  status?: Schema;
  scale?: {
    specReplicasPath: string;
    statusReplicasPath: string;
    labelSelectorPath?: string;
  };
  printerColumns?: Array<{ name: string; type: string; jsonPath: string }>;
}) {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${options.plural}.${options.group}`,
      labels: { 'app.kubernetes.io/managed-by': 'kube-real' },
      // *.k8s.io groups are protected (KEP 1111): the server demands the annotation, and these
      // are honestly not the approved upstream files.
      ...(/(^|\.)k8s\.io$|(^|\.)kubernetes\.io$/.test(options.group)
        ? {
            annotations: {
              'api-approved.kubernetes.io':
                'unapproved, kube-real test CRDs written from the Gateway API reference',
            },
          }
        : {}),
    },
    spec: {
      group: options.group,
      scope: 'Namespaced',
      names: {
        kind: options.kind,
        listKind: `${options.kind}List`,
        plural: options.plural,
        singular: options.kind.toLowerCase(),
        ...(options.shortNames ? { shortNames: options.shortNames } : {}),
        ...(options.categories ? { categories: options.categories } : {}),
      },
      versions: [
        {
          name: options.version,
          served: true,
          storage: true,
          subresources: {
            status: {},
            ...(options.scale ? { scale: options.scale } : {}),
          },
          ...(options.printerColumns
            ? { additionalPrinterColumns: options.printerColumns }
            : {}),
          schema: {
            openAPIV3Schema: obj(
              {
                apiVersion: str(),
                kind: str(),
                metadata: { type: 'object' },
                spec: options.spec,
                status: options.status ?? open(),
              },
              { required: ['spec'] },
            ),
          },
        },
      ],
    },
  };
}
