// How this process reaches ConductorOne for one cluster: each registered cluster is its own C1
// connector (client id and secret), as with baton-eks; the API host and token URL overrides only
// matter for a local stand-in.
import { C1Error, createC1Client, parseClientId, type C1Client } from '@eks-access/c1';
import type { ClusterSecrets } from '@eks-access/db';
import type { RateSettings } from '@eks-access/queue';
import type { UploaderConfig } from './config.js';

export interface C1Endpoint {
  /** Sent to C1 on every call (BATON_HOST_ID). */
  hostId: string;
  apiHost?: string;
  tokenUrl?: string;
  /** False for the plaintext local stand-in. */
  tls: boolean;
  /** PEM of CAs trusted for C1's endpoints beside Node's bundled roots (C1_CA_FILE). */
  ca?: string;
}

/** How this process reaches C1, from its configuration. */
export function c1EndpointOf(
  config: Pick<UploaderConfig, 'C1_HOST_ID' | 'C1_TLS' | 'C1_API_HOST' | 'C1_TOKEN_URL' | 'C1_CA_PEM'>,
): C1Endpoint {
  return {
    hostId: config.C1_HOST_ID,
    tls: config.C1_TLS,
    ...(config.C1_API_HOST ? { apiHost: config.C1_API_HOST } : {}),
    ...(config.C1_TOKEN_URL ? { tokenUrl: config.C1_TOKEN_URL } : {}),
    ...(config.C1_CA_PEM ? { ca: config.C1_CA_PEM } : {}),
  };
}

/**
 * A service-mode client with the cluster's credentials. Uploads are not retried inside the client:
 * the upload job is the one place that retries them, so that every attempt is recorded in Postgres
 * and counted against the upload's budget (a second layer would multiply the attempts).
 */
export function createClusterC1Client(
  endpoint: C1Endpoint,
  secrets: Pick<ClusterSecrets, 'c1ClientId' | 'c1ClientSecret'>,
): C1Client {
  if (!secrets.c1ClientId || !secrets.c1ClientSecret) {
    throw new C1Error(
      'INVALID_CREDENTIALS',
      'the cluster has no C1 client id and secret; set c1ClientId and c1ClientSecret on it',
      { retryable: false },
    );
  }
  return createC1Client({
    clientId: secrets.c1ClientId,
    clientSecret: secrets.c1ClientSecret,
    hostId: endpoint.hostId,
    ...(endpoint.apiHost ? { apiHost: endpoint.apiHost } : {}),
    ...(endpoint.tokenUrl ? { tokenUrl: endpoint.tokenUrl } : {}),
    ...(endpoint.tls ? (endpoint.ca ? { tls: { ca: endpoint.ca } } : {}) : { tls: false as const }),
    uploadRetryDelaysMs: [],
  });
}

/** The rate-limiter key of a client's C1 tenant: every cluster of one tenant shares its budget. */
export function tenantKeyOf(clientId: string): string {
  return `c1:${parseClientId(clientId).tokenHost}`;
}

/** Limiter settings for C1 tenants: start at the configured rate, never exceed it, halve on a throttle. */
export function tenantRateSettings(perSecond: number): RateSettings {
  return {
    initialPerSecond: perSecond,
    minPerSecond: Math.max(0.01, perSecond / 20),
    maxPerSecond: perSecond,
    burst: Math.max(1, Math.ceil(perSecond)),
    increasePerSecond: perSecond / 10,
    decrease: 0.5,
  };
}
