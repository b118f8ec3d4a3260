import { createHash, randomBytes } from 'node:crypto';
import { IssuerKeys } from '../oidc/issuer-keys.js';
import { KubeStore } from '../kube/store.js';
import {
  clusterKey,
  type Account,
  type AccessEntry,
  type AccessEntryType,
  type AuthenticationMode,
  type CallerIdentity,
  type Cluster,
  type Credential,
  type IamRole,
  type IamUser,
  type ManagedPolicy,
  type OidcProvider,
  type PodIdentityAssociation,
  type PolicyDocument,
  type Tag,
} from './types.js';

export interface NewUser {
  accountId: string;
  userName: string;
  path?: string;
  tags?: Tag[];
  createDate?: Date;
}

export interface NewRole {
  accountId: string;
  roleName: string;
  path?: string;
  assumeRolePolicyDocument: PolicyDocument;
  description?: string;
  maxSessionDuration?: number;
  tags?: Tag[];
  createDate?: Date;
}

export interface NewCluster {
  accountId: string;
  region: string;
  name: string;
  version?: string;
  authenticationMode: AuthenticationMode;
  tags?: Record<string, string>;
  createdAt?: Date;
}

export interface NewOidcProvider {
  accountId: string;
  /** The issuer URL, with or without `https://`. */
  url: string;
  clientIds?: string[];
  createDate?: Date;
}

export interface NewPodIdentityAssociation {
  namespace: string;
  serviceAccount: string;
  roleArn: string;
  tags?: Record<string, string>;
  now?: Date;
}

export interface NewAccessEntry {
  principalArn: string;
  type?: AccessEntryType;
  username?: string;
  kubernetesGroups?: string[];
  tags?: Record<string, string>;
  now?: Date;
}

export const ADMINISTRATOR_ACCESS_ARN = 'arn:aws:iam::aws:policy/AdministratorAccess';

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** A UUID-shaped id derived from its inputs, so rebuilt worlds get the same ARNs. */
function stableUuid(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\n')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** The ARN the simulator gives an access entry (also what IAM policies name as its resource). */
export function accessEntryArnFor(
  region: string,
  accountId: string,
  clusterName: string,
  principalArn: string,
): string {
  const clusterArn = `arn:aws:eks:${region}:${accountId}:cluster/${clusterName}`;
  // Real access-entry ARNs name the principal's kind, account and name (never its path).
  const principal = /^arn:[^:]+:iam::(\d{12}):(user|role)\/(?:.*\/)?([^/]+)$/.exec(principalArn);
  const principalPart = principal ? `${principal[2]}/${principal[1]}/${principal[3]}` : 'principal';
  return `arn:aws:eks:${region}:${accountId}:access-entry/${clusterName}/${principalPart}/${stableUuid(clusterArn, principalArn)}`;
}

/** Normalises an IAM path: always starts and ends with `/`. */
export function normalizePath(path: string | undefined): string {
  if (!path || path === '/') return '/';
  return `${path.startsWith('/') ? '' : '/'}${path}${path.endsWith('/') ? '' : '/'}`;
}

/** The username EKS gives an access entry when none is supplied (as AWS documents it). */
export function defaultAccessEntryUsername(principalArn: string): string {
  const m = /^arn:([^:]+):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(principalArn);
  if (m) return `arn:${m[1]}:sts::${m[2]}:assumed-role/${m[3]}/{{SessionName}}`;
  return principalArn;
}

/**
 * The simulated world. IDs are generated from counters so that a world built twice from the same
 * input is identical (tests and benchmarks depend on that).
 */
export class World {
  readonly accounts = new Map<string, Account>();
  readonly users = new Map<string, IamUser>();
  readonly roles = new Map<string, IamRole>();
  readonly credentials = new Map<string, Credential>();
  readonly clusters = new Map<string, Cluster>();
  /** IAM OIDC identity providers, keyed by ARN. */
  readonly oidcProviders = new Map<string, OidcProvider>();
  /** Managed IAM policies by ARN; AWS's AdministratorAccess is always there. */
  readonly managedPolicies = new Map<string, ManagedPolicy>([
    [
      ADMINISTRATOR_ACCESS_ARN,
      {
        arn: ADMINISTRATOR_ACCESS_ARN,
        policyName: 'AdministratorAccess',
        document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
      },
    ],
  ]);
  /**
   * Signing keys of the clusters' token issuers. The simulator replaces this with one set that
   * outlives world resets, so tokens minted before a reset still verify, as on a real cluster.
   */
  issuerKeys = new IssuerKeys();
  private counter = 0;
  private sortedRoles = new Map<string, IamRole[]>();
  private sortedUsers = new Map<string, IamUser[]>();
  /**
   * `${accountId}/${roleName}` → role, so the duplicate check in addRole stays O(1) when thousands
   * of roles are generated. Rebuilt from `roles` whenever the two disagree in size, so code that
   * edits `roles` directly still gets right answers.
   */
  private roleNameIndex = new Map<string, IamRole>();

  /** A deterministic 16-character IAM unique-id suffix. */
  nextId(prefix: string): string {
    let n = ++this.counter;
    let s = '';
    for (let i = 0; i < 16; i++) {
      s = ID_ALPHABET[n % 32] + s;
      n = Math.floor(n / 32);
    }
    return `${prefix}${s}`;
  }

  addAccount(id: string, alias?: string): Account {
    if (!/^\d{12}$/.test(id)) throw new Error(`account id "${id}" must be 12 digits`);
    const existing = this.accounts.get(id);
    if (existing) return existing;
    const account: Account = alias === undefined ? { id } : { id, alias };
    this.accounts.set(id, account);
    return account;
  }

  addUser(input: NewUser): IamUser {
    this.addAccount(input.accountId);
    const path = normalizePath(input.path);
    const arn = `arn:aws:iam::${input.accountId}:user${path}${input.userName}`;
    if (this.users.has(arn)) throw new Error(`IAM user ${arn} already exists`);
    const user: IamUser = {
      accountId: input.accountId,
      userName: input.userName,
      userId: this.nextId('AIDA'),
      path,
      arn,
      createDate: input.createDate ?? new Date('2024-01-01T00:00:00Z'),
      tags: input.tags ?? [],
    };
    this.users.set(arn, user);
    this.sortedUsers.delete(input.accountId);
    return user;
  }

  addRole(input: NewRole): IamRole {
    this.addAccount(input.accountId);
    const path = normalizePath(input.path);
    const arn = `arn:aws:iam::${input.accountId}:role${path}${input.roleName}`;
    if (this.findRoleByName(input.accountId, input.roleName)) {
      throw new Error(`IAM role ${input.roleName} already exists in account ${input.accountId}`);
    }
    const role: IamRole = {
      accountId: input.accountId,
      roleName: input.roleName,
      roleId: this.nextId('AROA'),
      path,
      arn,
      createDate: input.createDate ?? new Date('2024-01-01T00:00:00Z'),
      maxSessionDuration: input.maxSessionDuration ?? 3600,
      assumeRolePolicyDocument: input.assumeRolePolicyDocument,
      tags: input.tags ?? [],
      ...(input.description === undefined ? {} : { description: input.description }),
    };
    this.roles.set(arn, role);
    this.roleNameIndex.set(`${input.accountId}/${input.roleName}`, role);
    this.sortedRoles.delete(input.accountId);
    return role;
  }

  /** Role names are unique per account regardless of path, as in IAM. */
  findRoleByName(accountId: string, roleName: string): IamRole | undefined {
    if (this.roleNameIndex.size !== this.roles.size) {
      this.roleNameIndex = new Map([...this.roles.values()].map((r) => [`${r.accountId}/${r.roleName}`, r]));
    }
    const role = this.roleNameIndex.get(`${accountId}/${roleName}`);
    // A role replaced or removed behind the index's back: fall back to the authoritative map.
    if (role && this.roles.get(role.arn) !== role) {
      return [...this.roles.values()].find((r) => r.accountId === accountId && r.roleName === roleName);
    }
    return role;
  }

  findUserByName(accountId: string, userName: string): IamUser | undefined {
    return this.usersInAccount(accountId).find((u) => u.userName === userName);
  }

  /** Roles of one account in the order ListRoles returns them (by path, then name). */
  rolesInAccount(accountId: string): IamRole[] {
    let list = this.sortedRoles.get(accountId);
    if (!list) {
      list = [...this.roles.values()]
        .filter((r) => r.accountId === accountId)
        .sort((a, b) => (a.path + a.roleName < b.path + b.roleName ? -1 : 1));
      this.sortedRoles.set(accountId, list);
    }
    return list;
  }

  usersInAccount(accountId: string): IamUser[] {
    let list = this.sortedUsers.get(accountId);
    if (!list) {
      list = [...this.users.values()]
        .filter((u) => u.accountId === accountId)
        .sort((a, b) => (a.path + a.userName < b.path + b.userName ? -1 : 1));
      this.sortedUsers.set(accountId, list);
    }
    return list;
  }

  /** Registers a long-lived access key for an IAM user (or the account root when `userArn` is a root ARN). */
  addAccessKey(principalArn: string, accessKeyId?: string, secretAccessKey?: string): Credential {
    const identity = this.identityOf(principalArn);
    const credential: Credential = {
      accessKeyId: accessKeyId ?? this.nextId('AKIA'),
      secretAccessKey: secretAccessKey ?? randomBytes(30).toString('base64').slice(0, 40),
      identity,
    };
    if (this.credentials.has(credential.accessKeyId)) {
      throw new Error(`access key ${credential.accessKeyId} already exists`);
    }
    this.credentials.set(credential.accessKeyId, credential);
    return credential;
  }

  /** Issues temporary credentials (what AssumeRole returns); they stop working at `expiresAt`. */
  issueTemporaryCredentials(identity: CallerIdentity, expiresAt: Date): Credential {
    const credential: Credential = {
      accessKeyId: this.nextId('ASIA'),
      secretAccessKey: randomBytes(30).toString('base64').slice(0, 40),
      sessionToken: randomBytes(96).toString('base64'),
      expiresAt,
      identity,
    };
    this.credentials.set(credential.accessKeyId, credential);
    return credential;
  }

  private identityOf(principalArn: string): CallerIdentity {
    const root = /^arn:aws:iam::(\d{12}):root$/.exec(principalArn);
    if (root?.[1]) {
      this.addAccount(root[1]);
      return { kind: 'root', accountId: root[1], arn: principalArn, userId: root[1] };
    }
    const user = this.users.get(principalArn);
    if (!user)
      throw new Error(`access keys belong to an IAM user or an account root; ${principalArn} is neither`);
    return { kind: 'user', accountId: user.accountId, arn: user.arn, userId: user.userId };
  }

  addCluster(input: NewCluster): Cluster {
    this.addAccount(input.accountId);
    const key = clusterKey(input.accountId, input.region, input.name);
    if (this.clusters.has(key))
      throw new Error(`cluster ${input.name} already exists in ${input.accountId}/${input.region}`);
    const cluster: Cluster = {
      name: input.name,
      region: input.region,
      accountId: input.accountId,
      arn: `arn:aws:eks:${input.region}:${input.accountId}:cluster/${input.name}`,
      version: input.version ?? '1.31',
      authenticationMode: input.authenticationMode,
      createdAt: input.createdAt ?? new Date('2024-01-01T00:00:00Z'),
      tags: input.tags ?? {},
      accessEntries: new Map(),
      podIdentityAssociations: new Map(),
      oidcIssuer: `https://oidc.eks.${input.region}.amazonaws.com/id/${createHash('sha256')
        .update(`arn:aws:eks:${input.region}:${input.accountId}:cluster/${input.name}`)
        .digest('hex')
        .slice(0, 32)
        .toUpperCase()}`,
      kube: new KubeStore(),
    };
    this.clusters.set(key, cluster);
    return cluster;
  }

  getCluster(accountId: string, region: string, name: string): Cluster | undefined {
    return this.clusters.get(clusterKey(accountId, region, name));
  }

  clustersIn(accountId: string, region: string): Cluster[] {
    return [...this.clusters.values()]
      .filter((c) => c.accountId === accountId && c.region === region)
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** Registers an IAM OIDC identity provider (what `aws iam create-open-id-connect-provider` does). */
  addOidcProvider(input: NewOidcProvider): OidcProvider {
    this.addAccount(input.accountId);
    const url = input.url.replace(/^https:\/\//, '').replace(/\/+$/, '');
    const arn = `arn:aws:iam::${input.accountId}:oidc-provider/${url}`;
    if (this.oidcProviders.has(arn)) throw new Error(`OIDC provider ${arn} already exists`);
    const provider: OidcProvider = {
      accountId: input.accountId,
      arn,
      url,
      clientIds: input.clientIds ?? ['sts.amazonaws.com'],
      createDate: input.createDate ?? new Date('2024-01-01T00:00:00Z'),
    };
    this.oidcProviders.set(arn, provider);
    return provider;
  }

  /** The account's OIDC provider for an issuer URL (with or without scheme), if it registered one. */
  findOidcProvider(accountId: string, issuer: string): OidcProvider | undefined {
    const url = issuer.replace(/^https:\/\//, '').replace(/\/+$/, '');
    return this.oidcProviders.get(`arn:aws:iam::${accountId}:oidc-provider/${url}`);
  }

  /** The cluster whose service-account tokens this issuer signs. */
  clusterByIssuer(issuer: string): Cluster | undefined {
    return [...this.clusters.values()].find((c) => c.oidcIssuer === issuer);
  }

  /** Adds an EKS Pod Identity association; one per (namespace, service account), as EKS allows. */
  addPodIdentityAssociation(cluster: Cluster, input: NewPodIdentityAssociation): PodIdentityAssociation {
    for (const existing of cluster.podIdentityAssociations.values()) {
      if (existing.namespace === input.namespace && existing.serviceAccount === input.serviceAccount) {
        throw new Error(
          `service account ${input.namespace}/${input.serviceAccount} already has a pod identity association on ${cluster.name}`,
        );
      }
    }
    const now = input.now ?? new Date('2024-01-01T00:00:00Z');
    // EKS association ids look like `a-abcdefghijklmnop1`; derived from inputs so rebuilt worlds agree.
    const digest = createHash('sha256')
      .update(`${cluster.arn}\n${input.namespace}\n${input.serviceAccount}`)
      .digest('hex');
    const associationId = `a-${digest.slice(0, 17)}`;
    const association: PodIdentityAssociation = {
      associationId,
      associationArn: `arn:aws:eks:${cluster.region}:${cluster.accountId}:podidentityassociation/${cluster.name}/${associationId}`,
      clusterName: cluster.name,
      namespace: input.namespace,
      serviceAccount: input.serviceAccount,
      roleArn: input.roleArn,
      createdAt: now,
      modifiedAt: now,
      tags: input.tags ?? {},
    };
    cluster.podIdentityAssociations.set(associationId, association);
    return association;
  }

  /** Adds an access entry directly (world building and out-of-band changes; the EKS API validates first). */
  addAccessEntry(cluster: Cluster, input: NewAccessEntry): AccessEntry {
    if (cluster.accessEntries.has(input.principalArn)) {
      throw new Error(`access entry for ${input.principalArn} already exists on ${cluster.name}`);
    }
    const now = input.now ?? new Date('2024-01-01T00:00:00Z');
    const type = input.type ?? 'STANDARD';
    const entry: AccessEntry = {
      clusterName: cluster.name,
      principalArn: input.principalArn,
      type,
      username: input.username ?? defaultAccessEntryUsername(input.principalArn),
      kubernetesGroups: input.kubernetesGroups ?? [],
      accessEntryArn: accessEntryArnFor(cluster.region, cluster.accountId, cluster.name, input.principalArn),
      createdAt: now,
      modifiedAt: now,
      tags: input.tags ?? {},
      associations: new Map(),
    };
    cluster.accessEntries.set(input.principalArn, entry);
    return entry;
  }
}
