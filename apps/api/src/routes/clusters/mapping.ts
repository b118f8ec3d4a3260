// From the API's cluster body to the db package's input: hosting mode follows which secrets are
// given, as in baton-eks (static keys → self-hosted; global keys or a binding role → cloud-hosted).
import type { CreateClusterInput } from '@eks-access/db';
import { ApiError } from '../../errors.js';
import type { ClusterBody } from '../common.js';

/** Maps a (complete or partial) cluster body onto db input fields, checking cross-field rules. */
export function toClusterInput(body: Partial<ClusterBody>): Partial<CreateClusterInput> {
  if (body.accessKey && (body.globalKey || body.bindingRoleArn)) {
    throw new ApiError(
      'VALIDATION_FAILED',
      'accessKey (self-hosted) cannot be combined with globalKey or bindingRoleArn (cloud-hosted)',
    );
  }
  if (body.bindingExternalId && !body.bindingRoleArn)
    throw new ApiError('VALIDATION_FAILED', 'bindingExternalId needs bindingRoleArn');
  const out: Partial<CreateClusterInput> = {};
  for (const k of [
    'name',
    'region',
    'accountId',
    'roleArn',
    'externalId',
    'c1ClientId',
    'c1ClientSecret',
    'provisioningEnabled',
    'provisioningPolicy',
    'labels',
    'enabled',
    'snapshotRetention',
  ] as const) {
    if (body[k] !== undefined) (out as Record<string, unknown>)[k] = body[k];
  }
  if (body.schedule)
    out.schedule =
      'everyMs' in body.schedule ? { every_ms: body.schedule.everyMs } : { cron: body.schedule.cron };
  if (body.accessKey) {
    out.hostingMode = 'self-hosted';
    out.credentials = { static: body.accessKey };
  } else if (body.globalKey || body.bindingRoleArn) {
    out.hostingMode = 'cloud-hosted';
    out.credentials = {
      ...(body.globalKey ? { global: body.globalKey } : {}),
      ...(body.bindingRoleArn
        ? {
            bindingRole: {
              roleArn: body.bindingRoleArn,
              ...(body.bindingExternalId ? { externalId: body.bindingExternalId } : {}),
            },
          }
        : {}),
    };
  }
  return out;
}
