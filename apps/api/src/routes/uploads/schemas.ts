// What the upload routes return: c1z uploads as the db package records them.
import { UPLOAD_STATUSES } from '@eks-access/db';
import { z } from 'zod';
import { component, page, timestamp, uuidOut } from '../../openapi/component.js';

export const uploadOut = component(
  'Upload',
  'The upload of one sync run’s c1z file to ConductorOne for one C1 task: pending → uploading → succeeded; `dead` after its last allowed attempt (a dead letter, retried with POST /v1/uploads/{id}/retry).',
  z.object({
    id: uuidOut,
    clusterId: uuidOut,
    syncRunId: uuidOut,
    c1TaskId: z.string().nullable(),
    status: z.enum(UPLOAD_STATUSES),
    attempt: z.number().int(),
    maxAttempts: z.number().int(),
    nextAttemptAt: timestamp.nullable(),
    lastError: z
      .object({
        code: z.string(),
        message: z.string(),
        retryable: z.boolean(),
        retryAfterMs: z.number().optional(),
      })
      .nullable(),
    worker: z.string().nullable(),
    bytes: z.number().int().nullable(),
    sha256: z.string().nullable(),
    createdAt: timestamp,
    startedAt: timestamp.nullable(),
    finishedAt: timestamp.nullable(),
    c1zOptions: z
      .object({
        targetedResources: z.array(z.object({ type: z.string(), id: z.string() })).optional(),
        resourceTypeIds: z.array(z.string()).optional(),
        skipEntitlementsAndGrants: z.boolean().optional(),
        skipGrants: z.boolean().optional(),
        expandGrants: z.boolean().optional(),
      })
      .nullable()
      .meta({ description: 'What the C1 sync task asked the file to hold; null for a plain full sync.' }),
  }),
);

export const uploadPage = component('UploadPage', 'A page of uploads, newest first.', page(uploadOut));
