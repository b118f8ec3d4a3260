import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { protoRoot, protoType } from '../proto.js';
import { TASK_TYPES } from './messages.js';

// What C1 can send: our baton.proto against a list transcribed from baton-sdk's own file.
const upstream = JSON.parse(
  readFileSync(new URL('./testdata/baton-sdk-task-oneof.json', import.meta.url), 'utf8'),
) as {
  taskTypeOneof: [string, number, string][];
  syncFullTaskFields: [string, number, string, string][];
};

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

describe('the Task message', () => {
  it('has every task_type oneof member of baton-sdk’s baton.proto, with the same numbers and types', () => {
    const task = protoType('c1.connectorapi.baton.v1.Task');
    const oneof = task.oneofs.taskType;
    expect(oneof).toBeDefined();
    const ours = (oneof?.fieldsArray ?? []).map((f) => [snake(f.name), f.id, f.type]);
    expect(ours).toEqual(upstream.taskTypeOneof);
  });

  it('names the same members in the TypeScript list the loop and the stand-in use', () => {
    const oneof = protoType('c1.connectorapi.baton.v1.Task').oneofs.taskType;
    expect([...TASK_TYPES]).toEqual(oneof?.fieldsArray.map((f) => f.name));
  });

  it('declares every SyncFullTask field, options 5 to 7 included', () => {
    const syncFull = protoType('c1.connectorapi.baton.v1.Task.SyncFullTask');
    const ours = syncFull.fieldsArray.map((f) => [
      snake(f.name),
      f.id,
      f.resolvedType ? f.resolvedType.fullName.slice(1) : f.type,
      f.repeated ? 'repeated' : '',
    ]);
    expect(ours).toEqual(upstream.syncFullTaskFields);
  });
});

// The event-feed answers: our event_feed.proto (and Task.ListEventsTask) against baton-sdk's.
const feed = JSON.parse(
  readFileSync(new URL('./testdata/baton-sdk-event-feed.json', import.meta.url), 'utf8'),
) as { messages: Record<string, [string, number, string, string][]>; eventType: [string, number][] };

describe('the event-feed messages', () => {
  it.each(Object.entries(feed.messages))('declares %s as baton-sdk does', (name, fields) => {
    const type = protoType(name);
    type.resolveAll();
    const ours = type.fieldsArray
      .map((f) => [
        snake(f.name),
        f.id,
        f.resolvedType ? f.resolvedType.fullName.slice(1) : f.type,
        f.repeated ? 'repeated' : f.partOf ? `oneof ${f.partOf.name}` : '',
      ])
      .sort((a, b) => (a[1] as number) - (b[1] as number));
    expect(ours).toEqual(fields);
  });

  it('has baton-sdk’s EventType values', () => {
    const values = protoRoot().lookupEnum('c1.connector.v2.EventType').values;
    expect(Object.entries(values).sort((a, b) => a[1] - b[1])).toEqual(feed.eventType);
  });
});
