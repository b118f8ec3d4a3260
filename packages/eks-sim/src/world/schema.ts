// The world-file format: a YAML or JSON document describing accounts, IAM principals, clusters and
// each cluster's Kubernetes objects. This module is only the shape of one document; cross-references
// (a cluster's account, a binding's namespace, duplicates) are checked in load.ts, where the whole
// document is in view. Field names follow the AWS and Kubernetes APIs so snippets can be pasted in.
import { z } from 'zod';
import { ACCESS_ENTRY_TYPES, AUTHENTICATION_MODES } from './types.js';

const ACCOUNT_ID = /^\d{12}$/;
const IAM_NAME = /^[\w+=,.@-]{1,64}$/;
const IAM_PATH = /^\/(?:[\x21-\x2e\x30-\x7e]+\/)*$/;
const REGION = /^[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/;
const CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/;
const KUBE_VERSION = /^\d+\.\d+$/;
const ACCESS_KEY_ID = /^AKIA[A-Z0-9]{16}$/;
const SECRET_ACCESS_KEY = /^[A-Za-z0-9/+]{40}$/;
const DNS_LABEL = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;

/** IAM user or role ARN, path allowed (`arn:aws:iam::111111111111:role/aws-reserved/…/Name`). */
export const IAM_PRINCIPAL_ARN =
  /^arn:aws(?:-[a-z]+)*:iam::\d{12}:(?:user|role)\/(?:[\x21-\x2e\x30-\x7e]+\/)*[\w+=,.@-]{1,64}$/;
export const IAM_ROLE_ARN =
  /^arn:aws(?:-[a-z]+)*:iam::\d{12}:role\/(?:[\x21-\x2e\x30-\x7e]+\/)*[\w+=,.@-]{1,64}$/;
export const IAM_USER_ARN =
  /^arn:aws(?:-[a-z]+)*:iam::\d{12}:user\/(?:[\x21-\x2e\x30-\x7e]+\/)*[\w+=,.@-]{1,64}$/;
export const ACCESS_POLICY_ARN = /^arn:aws(?:-[a-z]+)*:eks::aws:cluster-access-policy\/[A-Za-z0-9]+$/;
export const ACCESS_POLICY_ARN_PREFIX = 'arn:aws:eks::aws:cluster-access-policy/';

/**
 * YAML reads an unquoted 12-digit account id as a number. A 12-digit number is still the right id
 * (a leading zero would have shortened it), so accept it; anything else gets the hint to quote.
 */
export const accountIdSchema = z
  .union([z.string(), z.number()], { error: 'must be a 12-digit AWS account id' })
  .transform((v) => String(v))
  .pipe(
    z
      .string()
      .regex(ACCOUNT_ID, 'must be a 12-digit AWS account id (quote it in YAML so leading zeros survive)'),
  );

const iamNameSchema = z.string().regex(IAM_NAME, 'must be 1–64 characters of letters, digits and +=,.@_-');
const iamPathSchema = z
  .string()
  .refine(
    (p) => p === '' || IAM_PATH.test(`${p.startsWith('/') ? '' : '/'}${p}${p.endsWith('/') ? '' : '/'}`),
    {
      message: 'must be an IAM path such as /people/ (printable ASCII between slashes)',
    },
  );
const tagsSchema = z.record(z.string().min(1).max(128), z.string().max(256), {
  error: 'must be a map of tag key to value',
});
const labelsSchema = z.record(z.string().min(1), z.string(), { error: 'must be a map of string to string' });

export const accessKeySchema = z
  .object({
    accessKeyId: z.string().regex(ACCESS_KEY_ID, 'must be AKIA followed by 16 upper-case letters or digits'),
    secretAccessKey: z.string().regex(SECRET_ACCESS_KEY, 'must be 40 characters of letters, digits, / and +'),
  })
  .strict();

// IAM returns condition values as strings; documents written by hand often use booleans and numbers.
const conditionValueSchema = z
  .union([z.string(), z.number(), z.boolean(), z.array(z.union([z.string(), z.number(), z.boolean()]))], {
    error: 'must be a string or a list of strings',
  })
  .transform((v) => (Array.isArray(v) ? v.map(String) : String(v)));
const policyValueSchema = z.union([z.string(), z.array(z.string())], {
  error: 'must be a string or a list of strings',
});
const principalSchema = z.union([z.literal('*'), z.record(z.string(), policyValueSchema)], {
  error: 'must be "*" or a map such as {AWS: <arn>}, {Service: …} or {Federated: …}',
});

const trustStatementSchema = z
  .object({
    Sid: z.string().optional(),
    Effect: z.enum(['Allow', 'Deny'], { error: 'must be Allow or Deny' }),
    Principal: principalSchema.optional(),
    NotPrincipal: principalSchema.optional(),
    Action: policyValueSchema.optional(),
    NotAction: policyValueSchema.optional(),
    Resource: policyValueSchema.optional(),
    Condition: z.record(z.string(), z.record(z.string(), conditionValueSchema)).optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.Principal === undefined && s.NotPrincipal === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'a trust policy statement needs a Principal',
        path: ['Principal'],
      });
    }
    if (s.Action === undefined && s.NotAction === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'a trust policy statement needs an Action (e.g. sts:AssumeRole)',
        path: ['Action'],
      });
    }
  });

/** A role trust policy; IAM accepts a single statement object as well as a list. */
export const trustPolicySchema = z
  .object({
    Version: z.enum(['2012-10-17', '2008-10-17'], { error: 'must be "2012-10-17"' }).optional(),
    Id: z.string().optional(),
    Statement: z.union([
      trustStatementSchema,
      z.array(trustStatementSchema).min(1, 'needs at least one statement'),
    ]),
  })
  .strict()
  .transform((p) => ({
    Version: p.Version ?? '2012-10-17',
    Statement: Array.isArray(p.Statement) ? p.Statement : [p.Statement],
  }));

const identityStatementSchema = z
  .object({
    Sid: z.string().optional(),
    Effect: z.enum(['Allow', 'Deny'], { error: 'must be Allow or Deny' }),
    Action: policyValueSchema.optional(),
    NotAction: policyValueSchema.optional(),
    Resource: policyValueSchema.optional(),
    NotResource: policyValueSchema.optional(),
    Condition: z.record(z.string(), z.record(z.string(), conditionValueSchema)).optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.Action === undefined && s.NotAction === undefined) {
      ctx.addIssue({ code: 'custom', message: 'a statement needs an Action or NotAction', path: ['Action'] });
    }
    if (s.Resource === undefined && s.NotResource === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'an identity policy statement needs a Resource (use "*" for every resource)',
        path: ['Resource'],
      });
    }
  });

/** An identity-based policy document (what PutRolePolicy takes): no Principal, a Resource per statement. */
export const identityPolicyDocumentSchema = z
  .object({
    Version: z.enum(['2012-10-17', '2008-10-17'], { error: 'must be "2012-10-17"' }).optional(),
    Id: z.string().optional(),
    Statement: z.union([
      identityStatementSchema,
      z.array(identityStatementSchema).min(1, 'needs at least one statement'),
    ]),
  })
  .strict()
  .transform((p) => ({
    Version: p.Version ?? '2012-10-17',
    Statement: Array.isArray(p.Statement) ? p.Statement : [p.Statement],
  }));

const inlinePolicySchema = z
  .object({
    policyName: z
      .string()
      .regex(/^[\w+=,.@-]{1,128}$/, 'must be 1–128 characters of letters, digits and +=,.@_-'),
    policyDocument: identityPolicyDocumentSchema,
  })
  .strict();

/** A customer managed policy, attached to users and roles by ARN (`managedPolicies`). */
export const managedPolicySchema = z
  .object({
    accountId: accountIdSchema,
    policyName: z
      .string()
      .regex(/^[\w+=,.@-]{1,128}$/, 'must be 1–128 characters of letters, digits and +=,.@_-'),
    path: iamPathSchema.optional(),
    policyDocument: identityPolicyDocumentSchema,
  })
  .strict();

const MANAGED_POLICY_ARN =
  /^arn:aws(?:-[a-z]+)*:iam::(?:\d{12}|aws):policy\/(?:[\x21-\x2e\x30-\x7e]+\/)*[\w+=,.@-]{1,128}$/;
const attachedPoliciesSchema = z.array(
  z
    .string()
    .regex(MANAGED_POLICY_ARN, 'must be a managed policy ARN (arn:aws:iam::<account>|aws:policy/<name>)'),
);

/**
 * A principal's identity policies. Leaving both out means "not modelled": the principal may do
 * anything, as in worlds written before policies were simulated. Declaring either (even empty)
 * makes every IAM and EKS call of the principal subject to them.
 */
const identityPolicyFields = {
  inlinePolicies: z.array(inlinePolicySchema).optional(),
  managedPolicies: attachedPoliciesSchema.optional(),
};

export const accountSchema = z
  .object({
    id: accountIdSchema,
    alias: z.string().min(1).optional(),
    /** Access keys of the account root (rarely wanted, but real). */
    accessKeys: z.array(accessKeySchema).optional(),
  })
  .strict();

export const iamUserSchema = z
  .object({
    accountId: accountIdSchema,
    userName: iamNameSchema,
    path: iamPathSchema.optional(),
    tags: tagsSchema.optional(),
    accessKeys: z.array(accessKeySchema).optional(),
    ...identityPolicyFields,
  })
  .strict();

export const iamRoleSchema = z
  .object({
    accountId: accountIdSchema,
    roleName: iamNameSchema,
    path: iamPathSchema.optional(),
    trustPolicy: trustPolicySchema,
    description: z.string().max(1000).optional(),
    maxSessionDuration: z
      .number()
      .int()
      .min(3600, 'must be 3600–43200 seconds')
      .max(43200, 'must be 3600–43200 seconds')
      .optional(),
    tags: tagsSchema.optional(),
    ...identityPolicyFields,
  })
  .strict();

/** A bare policy name (`AmazonEKSViewPolicy`) is expanded to its ARN. */
const policyArnSchema = z
  .string()
  .transform((v) => (v.startsWith('arn:') ? v : `${ACCESS_POLICY_ARN_PREFIX}${v}`))
  .pipe(
    z
      .string()
      .regex(
        ACCESS_POLICY_ARN,
        'must be an EKS access policy ARN (arn:aws:eks::aws:cluster-access-policy/<Name>)',
      ),
  );

export const accessScopeSchema = z
  .object({
    type: z.enum(['cluster', 'namespace'], { error: 'must be cluster or namespace' }),
    namespaces: z.array(z.string().regex(DNS_LABEL, 'must be a namespace name (DNS label)')).optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.type === 'namespace' && (s.namespaces ?? []).length === 0) {
      ctx.addIssue({
        code: 'custom',
        message: 'a namespace scope needs at least one namespace',
        path: ['namespaces'],
      });
    }
    if (s.type === 'cluster' && (s.namespaces ?? []).length > 0) {
      ctx.addIssue({ code: 'custom', message: 'a cluster scope takes no namespaces', path: ['namespaces'] });
    }
  })
  .transform((s) => ({ type: s.type, namespaces: s.namespaces ?? [] }));

export const policyAssociationSchema = z
  .object({
    policyArn: policyArnSchema,
    accessScope: accessScopeSchema.optional(),
  })
  .strict()
  .transform((a) => ({
    policyArn: a.policyArn,
    accessScope: a.accessScope ?? { type: 'cluster' as const, namespaces: [] },
  }));

export const accessEntrySchema = z
  .object({
    principalArn: z.string().regex(IAM_PRINCIPAL_ARN, 'must be an IAM user or role ARN'),
    type: z.enum(ACCESS_ENTRY_TYPES, { error: `must be one of ${ACCESS_ENTRY_TYPES.join(', ')}` }).optional(),
    username: z.string().min(1).optional(),
    kubernetesGroups: z.array(z.string().min(1)).optional(),
    tags: tagsSchema.optional(),
    policyAssociations: z.array(policyAssociationSchema).optional(),
  })
  .strict();

const dnsLabel = z
  .string()
  .regex(DNS_LABEL, 'must be a DNS label: lower-case letters, digits and -, at most 63');
const dnsSubdomain = z
  .string()
  .max(253)
  .regex(DNS_SUBDOMAIN, 'must be a DNS subdomain: lower-case letters, digits, - and .');
/** RBAC object names may hold `:` (system:masters…); the API server only forbids path-breaking names. */
const pathSegmentName = z
  .string()
  .min(1, 'must not be empty')
  .max(253)
  .refine((n) => n !== '.' && n !== '..' && !/[/%]/.test(n), {
    message: 'must not be "." or ".." or contain / or %',
  });

const policyRuleSchema = z
  .object({
    apiGroups: z.array(z.string()).optional(),
    resources: z.array(z.string()).optional(),
    verbs: z.array(z.string().min(1)).min(1, 'needs at least one verb'),
    resourceNames: z.array(z.string()).optional(),
    nonResourceURLs: z.array(z.string()).optional(),
  })
  .strict();

const aggregationRuleSchema = z
  .object({ clusterRoleSelectors: z.array(z.record(z.string(), z.unknown())) })
  .strict();

const RBAC_GROUP = 'rbac.authorization.k8s.io';

export const roleRefSchema = z
  .object({
    kind: z.enum(['ClusterRole', 'Role'], { error: 'must be ClusterRole or Role' }),
    name: pathSegmentName,
    apiGroup: z.literal(RBAC_GROUP, { error: `must be ${RBAC_GROUP}` }).optional(),
  })
  .strict()
  .transform((r) => ({ apiGroup: RBAC_GROUP, kind: r.kind, name: r.name }));

export const subjectSchema = z
  .object({
    kind: z.enum(['User', 'Group', 'ServiceAccount'], { error: 'must be User, Group or ServiceAccount' }),
    name: z.string().min(1, 'must not be empty'),
    namespace: z.string().optional(),
    apiGroup: z.string().optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    const expected = s.kind === 'ServiceAccount' ? '' : RBAC_GROUP;
    if (s.apiGroup !== undefined && s.apiGroup !== expected) {
      ctx.addIssue({ code: 'custom', message: `must be "${expected}" for a ${s.kind}`, path: ['apiGroup'] });
    }
    if (s.kind !== 'ServiceAccount' && s.namespace !== undefined && s.namespace !== '') {
      ctx.addIssue({
        code: 'custom',
        message: `a ${s.kind} subject takes no namespace`,
        path: ['namespace'],
      });
    }
  })
  .transform((s) =>
    s.kind === 'ServiceAccount'
      ? { kind: s.kind, name: s.name, ...(s.namespace ? { namespace: s.namespace } : {}) }
      : { kind: s.kind, apiGroup: RBAC_GROUP, name: s.name },
  );

const metaFields = { labels: labelsSchema.optional(), annotations: labelsSchema.optional() };

export const namespaceShorthandSchema = z.union(
  [dnsLabel, z.object({ name: dnsLabel, ...metaFields }).strict()],
  { error: 'must be a namespace name or {name, labels, annotations}' },
);
export const serviceAccountShorthandSchema = z
  .object({ namespace: dnsLabel, name: dnsSubdomain, ...metaFields })
  .strict();
export const configMapShorthandSchema = z
  .object({ namespace: dnsLabel, name: dnsSubdomain, data: labelsSchema.optional(), ...metaFields })
  .strict();
export const clusterRoleShorthandSchema = z
  .object({
    name: pathSegmentName,
    rules: z.array(policyRuleSchema).optional(),
    aggregationRule: aggregationRuleSchema.optional(),
    ...metaFields,
  })
  .strict();
export const roleShorthandSchema = z
  .object({
    namespace: dnsLabel,
    name: pathSegmentName,
    rules: z.array(policyRuleSchema).optional(),
    ...metaFields,
  })
  .strict();
export const clusterRoleBindingShorthandSchema = z
  .object({
    name: pathSegmentName,
    roleRef: roleRefSchema,
    subjects: z.array(subjectSchema).optional(),
    ...metaFields,
  })
  .strict();
export const roleBindingShorthandSchema = z
  .object({
    namespace: dnsLabel,
    name: pathSegmentName,
    roleRef: roleRefSchema,
    subjects: z.array(subjectSchema).optional(),
    ...metaFields,
  })
  .strict();

const mapRoleSchema = z
  .object({
    rolearn: z.string().regex(IAM_ROLE_ARN, 'must be an IAM role ARN'),
    username: z.string().min(1).optional(),
    groups: z.array(z.string().min(1)).optional(),
  })
  .strict();
const mapUserSchema = z
  .object({
    userarn: z.string().regex(IAM_USER_ARN, 'must be an IAM user ARN'),
    username: z.string().min(1).optional(),
    groups: z.array(z.string().min(1)).optional(),
  })
  .strict();

/**
 * The aws-auth ConfigMap. Each key is either structured (serialised to YAML as EKS expects) or a
 * raw string kept byte for byte, so broken or oddly formatted aws-auth content can be simulated.
 */
export const awsAuthSchema = z
  .object({
    mapRoles: z
      .union([z.string(), z.array(mapRoleSchema)], {
        error: 'must be a YAML string or a list of {rolearn, username, groups}',
      })
      .optional(),
    mapUsers: z
      .union([z.string(), z.array(mapUserSchema)], {
        error: 'must be a YAML string or a list of {userarn, username, groups}',
      })
      .optional(),
    mapAccounts: z
      .union([z.string(), z.array(accountIdSchema)], {
        error: 'must be a YAML string or a list of account ids',
      })
      .optional(),
  })
  .strict();

// Manifests keep unknown fields (status, spec, secrets…) the way the API server would store them.
const manifestMeta = (name: z.ZodType<string, string>) =>
  z.looseObject({
    name,
    namespace: z.string().optional(),
    ...metaFields,
  });

const v1 = z.literal('v1', { error: 'must be v1' }).optional();
const rbacV1 = z.literal(`${RBAC_GROUP}/v1`, { error: `must be ${RBAC_GROUP}/v1` }).optional();

export const kubeManifestSchema = z.discriminatedUnion(
  'kind',
  [
    z.looseObject({ apiVersion: v1, kind: z.literal('Namespace'), metadata: manifestMeta(dnsLabel) }),
    z.looseObject({
      apiVersion: v1,
      kind: z.literal('ServiceAccount'),
      metadata: manifestMeta(dnsSubdomain),
    }),
    z.looseObject({
      apiVersion: v1,
      kind: z.literal('ConfigMap'),
      metadata: manifestMeta(dnsSubdomain),
      data: labelsSchema.optional(),
    }),
    z.looseObject({
      apiVersion: rbacV1,
      kind: z.literal('ClusterRole'),
      metadata: manifestMeta(pathSegmentName),
      rules: z.array(policyRuleSchema).optional(),
      aggregationRule: aggregationRuleSchema.optional(),
    }),
    z.looseObject({
      apiVersion: rbacV1,
      kind: z.literal('Role'),
      metadata: manifestMeta(pathSegmentName),
      rules: z.array(policyRuleSchema).optional(),
    }),
    z.looseObject({
      apiVersion: rbacV1,
      kind: z.literal('ClusterRoleBinding'),
      metadata: manifestMeta(pathSegmentName),
      roleRef: roleRefSchema,
      subjects: z.array(subjectSchema).optional(),
    }),
    z.looseObject({
      apiVersion: rbacV1,
      kind: z.literal('RoleBinding'),
      metadata: manifestMeta(pathSegmentName),
      roleRef: roleRefSchema,
      subjects: z.array(subjectSchema).optional(),
    }),
  ],
  {
    error:
      'kind must be one of Namespace, ServiceAccount, ConfigMap, ClusterRole, Role, ClusterRoleBinding, RoleBinding',
  },
);
export type KubeManifest = z.output<typeof kubeManifestSchema>;

export const podIdentityAssociationSchema = z
  .object({
    namespace: z.string().regex(DNS_LABEL, 'must be a namespace name'),
    serviceAccount: z.string().max(253).regex(DNS_SUBDOMAIN, 'must be a service account name'),
    roleArn: z.string().regex(IAM_ROLE_ARN, 'must be an IAM role ARN'),
  })
  .strict();

/** An IAM OIDC provider for a cluster's issuer, registered in `accountId` (the role's account). */
export const oidcProviderSchema = z
  .object({
    accountId: accountIdSchema,
    /** The cluster whose issuer the provider trusts. */
    cluster: z.string().regex(CLUSTER_NAME, 'must be a cluster name'),
    /** Needed when two clusters share the name. */
    region: z.string().regex(REGION, 'must be an AWS region such as eu-west-1').optional(),
    clientIds: z.array(z.string().min(1).max(255)).min(1).optional(),
  })
  .strict();

export const clusterSchema = z
  .object({
    name: z
      .string()
      .regex(
        CLUSTER_NAME,
        'must start with a letter or digit and hold only letters, digits, - and _ (at most 100)',
      ),
    region: z.string().regex(REGION, 'must be an AWS region such as eu-west-1'),
    accountId: accountIdSchema,
    version: z
      .string({ error: 'must be a string such as "1.31" (quote it in YAML)' })
      .regex(KUBE_VERSION, 'must look like "1.31"')
      .optional(),
    authenticationMode: z.enum(AUTHENTICATION_MODES, {
      error: `must be one of ${AUTHENTICATION_MODES.join(', ')}`,
    }),
    tags: tagsSchema.optional(),
    accessEntries: z.array(accessEntrySchema).optional(),
    namespaces: z.array(namespaceShorthandSchema).optional(),
    serviceAccounts: z.array(serviceAccountShorthandSchema).optional(),
    configMaps: z.array(configMapShorthandSchema).optional(),
    awsAuth: awsAuthSchema.optional(),
    clusterRoles: z.array(clusterRoleShorthandSchema).optional(),
    roles: z.array(roleShorthandSchema).optional(),
    clusterRoleBindings: z.array(clusterRoleBindingShorthandSchema).optional(),
    roleBindings: z.array(roleBindingShorthandSchema).optional(),
    kubernetes: z.array(kubeManifestSchema).optional(),
    podIdentityAssociations: z.array(podIdentityAssociationSchema).optional(),
    /**
     * The role `eks-sim kubeconfig` assumes (with the simulator's first listed credential) when given
     * no identity: one the cluster maps, so a kubeconfig printed with no flags works.
     */
    operator: z
      .object({
        roleArn: z.string().regex(IAM_ROLE_ARN, 'must be an IAM role ARN'),
        externalId: z.string().min(2).max(1224).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

const count = (max: number) => z.number().int().min(0).max(max);

/** Options of the seeded generator (the world file's `generate:` section and `serve --generate`). */
export const generateOptionsSchema = z
  .object({
    seed: z.number().int().min(0).optional(),
    clusterName: z.string().regex(CLUSTER_NAME, 'must be a valid EKS cluster name').optional(),
    region: z.string().regex(REGION, 'must be an AWS region such as eu-west-1').optional(),
    accountId: accountIdSchema.optional(),
    authenticationMode: z
      .enum(AUTHENTICATION_MODES, { error: `must be one of ${AUTHENTICATION_MODES.join(', ')}` })
      .optional(),
    version: z.string().regex(KUBE_VERSION, 'must look like "1.31"').optional(),
    namespaces: count(100_000).optional(),
    serviceAccounts: count(1_000_000).optional(),
    clusterRoles: count(100_000).optional(),
    roles: count(1_000_000).optional(),
    roleBindings: count(1_000_000).optional(),
    clusterRoleBindings: count(1_000_000).optional(),
    accessEntries: count(100_000).optional(),
    iamRoles: count(1_000_000).optional(),
    iamUsers: count(1_000_000).optional(),
  })
  .strict();
export type GenerateOptions = z.input<typeof generateOptionsSchema>;

/** Regions a fleet world deals its clusters over, in order (`regions=4`: the first four). */
export const FLEET_REGIONS = [
  'us-east-1',
  'eu-west-1',
  'us-west-2',
  'ap-southeast-2',
  'eu-central-1',
  'us-east-2',
  'ap-northeast-1',
  'eu-north-1',
  'ca-central-1',
  'sa-east-1',
  'ap-south-1',
  'eu-west-2',
] as const;

const positive = (max: number) => z.coerce.number().int().min(1).max(max);

/** A fleet world (world/fleet.ts): `--world fleet:clusters=1000,accounts=100,regions=4`, or a file's `fleet:`. */
export const fleetSpecSchema = z
  .object({
    clusters: positive(10_000),
    accounts: positive(1_000),
    regions: positive(FLEET_REGIONS.length),
    seed: z.coerce.number().int().min(0).optional(),
    latencyMs: z.coerce.number().int().min(0).max(10_000).optional(),
    eksPerAccount: positive(100_000).optional(),
    iamPerAccount: positive(100_000).optional(),
    stsPerAccount: positive(100_000).optional(),
    kubePerCluster: positive(100_000).optional(),
  })
  .strict()
  .refine((s) => s.accounts <= s.clusters, {
    message: 'accounts must not exceed clusters (every account holds at least one cluster)',
    path: ['accounts'],
  });
export type FleetSpec = z.output<typeof fleetSpecSchema>;

export const worldDocumentSchema = z
  .object({
    accounts: z.array(accountSchema).optional(),
    iamUsers: z.array(iamUserSchema).optional(),
    iamRoles: z.array(iamRoleSchema).optional(),
    managedPolicies: z.array(managedPolicySchema).optional(),
    clusters: z.array(clusterSchema).optional(),
    oidcProviders: z.array(oidcProviderSchema).optional(),
    generate: generateOptionsSchema.optional(),
    fleet: fleetSpecSchema.optional(),
  })
  .strict();

/** A world document as written (YAML/JSON or built in code). */
export type WorldDocumentInput = z.input<typeof worldDocumentSchema>;
/** A world document after schema validation and normalisation. */
export type WorldDocument = z.output<typeof worldDocumentSchema>;
export type ClusterDocument = z.output<typeof clusterSchema>;
export type AccessEntryDocument = z.output<typeof accessEntrySchema>;
export type IamRoleDocument = z.output<typeof iamRoleSchema>;
export type IamUserDocument = z.output<typeof iamUserSchema>;
export type AwsAuthDocument = z.output<typeof awsAuthSchema>;
