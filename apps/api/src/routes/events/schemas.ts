// What the event routes take and return: the change-event log as the db package records it.
import { CHANGE_EVENT_KINDS, CHANGE_EVENT_SOURCES } from '@eks-access/db';
import { z } from 'zod';
import { component, timestamp, uuidOut } from '../../openapi/component.js';

const ref = z.object({ type: z.string(), id: z.string() });

export const changeEventOut = component(
  'ChangeEvent',
  'One change to who can reach what in a cluster, in the order changes were committed: a grant that appeared or went, a resource that changed, or a finding a new grant raised. `id` is the cursor.',
  z.object({
    id: z
      .string()
      .meta({ description: 'The event id: the cursor to resume after this event.', example: '1042' }),
    clusterId: uuidOut,
    syncRunId: uuidOut,
    kind: z.enum(CHANGE_EVENT_KINDS),
    source: z.enum(CHANGE_EVENT_SOURCES).meta({
      description:
        '`watch`: found by the watcher within seconds; `sync`: the difference a full sync found to the snapshot before it.',
    }),
    drift: z.boolean().meta({
      description: 'A full sync found this where the incremental (watch) snapshot was wrong or missed it.',
    }),
    principal: ref.nullable(),
    resource: ref.nullable(),
    entitlementId: z.string().nullable(),
    grantId: z.string().nullable(),
    finding: z.string().nullable().meta({
      description:
        'For findings: `system-masters-member`, `cluster-admin-binding` or `cluster-admin-access-policy`.',
    }),
    detail: z.record(z.string(), z.unknown()).meta({
      description:
        '`{grant}` for grants, revokes and findings (with `message`); `{before, after}` for resource changes.',
    }),
    occurredAt: timestamp,
  }),
);

export const changeEventPage = component(
  'ChangeEventPage',
  'Events after the cursor, oldest first. Pass `cursor` back to read on; it is the last event’s id (or the cursor given, when nothing matched).',
  z.object({
    items: z.array(changeEventOut),
    cursor: z.string().nullable(),
    hasMore: z.boolean().meta({ description: 'The page is full: more events may follow at once.' }),
  }),
);

const kindList = z
  .string()
  .max(200)
  .transform((s, ctx) => {
    const kinds = s
      .split(',')
      .map((k) => k.trim())
      .filter((k) => k !== '');
    for (const k of kinds) {
      if (!(CHANGE_EVENT_KINDS as readonly string[]).includes(k)) {
        ctx.addIssue({
          code: 'custom',
          message: `unknown kind "${k}" (one of ${CHANGE_EVENT_KINDS.join(', ')})`,
        });
        return z.NEVER;
      }
    }
    return kinds as (typeof CHANGE_EVENT_KINDS)[number][];
  })
  .meta({ description: 'Only these kinds, comma-separated.', example: 'grant,revoke' });

export const eventFilters = {
  cursor: z
    .string()
    .regex(/^\d{1,18}$/, 'must be an event id (digits)')
    .optional()
    .meta({ description: 'Read events after this event id.' }),
  clusterId: z.uuid({ error: 'must be a UUID' }).optional(),
  principalArn: z.string().min(1).max(2048).optional().meta({
    description: 'Only events about this principal (an IAM ARN, or a Kubernetes group or user name).',
  }),
  kind: kindList.optional(),
};

export const eventPageQuery = z.object({
  ...eventFilters,
  startAt: z.iso
    .datetime({ offset: true })
    .optional()
    .meta({ description: 'Only events at or after this instant.' }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .optional()
    .meta({ description: 'Events per page (default 100).' }),
});

export const eventStreamQuery = z.object(eventFilters);
