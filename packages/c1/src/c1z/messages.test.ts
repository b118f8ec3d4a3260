import { describe, expect, it } from 'vitest';
import {
  decodeAnnotation,
  decodeGrant,
  encodeGrant,
  encodeResource,
  encodeResourceType,
  grantObject,
  type ResourceEncodingContext,
} from './messages.js';
import type { C1Grant } from './model.js';
import { c1zTypes } from './proto.js';

// Protobuf wire helpers, independent of protobufjs, to spell out expected bytes.
const varint = (value: number): number[] => {
  const out: number[] = [];
  while (value > 0x7f) {
    out.push((value & 0x7f) | 0x80);
    value >>>= 7;
  }
  return [...out, value];
};
const text = (value: string) => [...Buffer.from(value, 'utf8')];
const field = (number: number, bytes: number[]) => [
  ...varint((number << 3) | 2),
  ...varint(bytes.length),
  ...bytes,
];

const context: ResourceEncodingContext = {
  traitsOf: (type) => (type === 'role' ? ['ROLE'] : type === 'iam_user' ? ['USER'] : []),
  accountTypeOf: () => 'HUMAN',
};

describe('c1.connector.v2 encoding', () => {
  it('writes a grant field by field in field-number order, as Go marshals it', () => {
    const grant: C1Grant = {
      id: 'g',
      entitlementId: 'e',
      resource: { type: 'r', id: '1' },
      principal: { type: 'u', id: '2' },
      annotations: [{ type: 'ExternalResourceMatchID', id: '2' }],
    };
    const resourceId = (type: string, id: string) => [...field(1, text(type)), ...field(2, text(id))];
    const any = [
      ...field(1, text('type.googleapis.com/c1.connector.v2.ExternalResourceMatchID')),
      ...field(2, field(1, text('2'))),
    ];
    const expected = [
      ...field(1, [...field(1, field(1, resourceId('r', '1'))), ...field(2, text('e'))]),
      ...field(2, field(1, resourceId('u', '2'))),
      ...field(3, text('g')),
      ...field(4, any),
    ];
    expect([...encodeGrant(grant).data]).toEqual(expected);
  });

  it('gives the same bytes as encoding the whole Grant message without its GrantExpandable', () => {
    const grants: C1Grant[] = [
      {
        id: 'access_policy:arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy:assigned:cluster:role:arn:aws:iam::1:role/a',
        entitlementId:
          'access_policy:arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy:assigned:cluster',
        resource: { type: 'access_policy', id: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy' },
        principal: { type: 'role', id: 'arn:aws:iam::1:role/a' },
        annotations: [
          { type: 'GrantExpandable', entitlementIds: ['role:arn:aws:iam::1:role/a:assignment'] },
          { type: 'GrantImmutable', sourceId: 's' },
        ],
      },
      // Same entitlement (its bytes are reused), another principal.
      {
        id: 'x',
        entitlementId:
          'access_policy:arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy:assigned:cluster',
        resource: { type: 'access_policy', id: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy' },
        principal: { type: 'iam_user', id: 'arn:aws:iam::1:user/b' },
        annotations: [{ type: 'ExternalResourceMatchID', id: 'arn:aws:iam::1:user/b' }],
      },
      { id: 'y', entitlementId: 'e2', resource: { type: 'r', id: 'ü' }, principal: { type: 'u', id: '' } },
    ];
    for (const grant of grants) {
      const withoutExpandable = {
        ...grant,
        annotations: grant.annotations?.filter((a) => a.type !== 'GrantExpandable'),
      };
      const whole = c1zTypes().Grant.encode(grantObject(withoutExpandable)).finish();
      expect(Buffer.from(encodeGrant(grant).data).toString('hex')).toBe(Buffer.from(whole).toString('hex'));
    }
  });

  it('leaves default values out', () => {
    expect([...encodeResourceType({ id: 'x', displayName: '', traits: [] })]).toEqual(field(1, text('x')));
    const bytes = encodeResource({ type: 'namespace', id: 'default', displayName: '' }, context);
    expect([...bytes]).toEqual(field(1, [...field(1, text('namespace')), ...field(2, text('default'))]));
  });

  it('writes traits as a packed repeated enum', () => {
    const bytes = encodeResourceType({ id: 'r', displayName: 'R', traits: ['USER', 'ROLE'] });
    expect([...bytes]).toEqual([...field(1, text('r')), ...field(2, text('R')), ...field(3, [1, 3])]);
  });

  it('orders profile keys by their UTF-8 bytes, whatever the object key order', () => {
    const profile = {
      b: 1,
      a: 'x',
      '10': true,
      '9': null,
      é: [1, { z: 2, y: 3 }],
      '😀': 'emoji',
      ｆ: 'fullwidth',
    };
    const bytes = encodeResource({ type: 'role', id: 'r', displayName: 'r', profile }, context);
    const resource = c1zTypes().Resource.decode(bytes) as unknown as { annotations: { value: Uint8Array }[] };
    const roleTrait = c1zTypes().RoleTrait.decode(resource.annotations[0]!.value) as unknown as {
      profile: { fields: { key: string }[] };
    };
    const keys = roleTrait.profile.fields.map((entry) => entry.key);
    expect(keys).toEqual(['10', '9', 'a', 'b', 'é', 'ｆ', '😀']);
    expect(
      decodeAnnotation({
        typeUrl: 'type.googleapis.com/c1.connector.v2.RoleTrait',
        value: resource.annotations[0]!.value,
      }).message,
    ).toEqual({
      profile,
    });
  });

  it('gives USER-trait resources an enabled status and an account type', () => {
    const bytes = encodeResource(
      { type: 'iam_user', id: 'u', displayName: 'u', accountType: 'SYSTEM' },
      context,
    );
    const resource = c1zTypes().Resource.decode(bytes) as unknown as {
      annotations: { typeUrl: string; value: Uint8Array }[];
    };
    expect(decodeAnnotation(resource.annotations[0]!).message).toEqual({
      emails: [],
      status: { status: 'STATUS_ENABLED', details: '' },
      profile: null,
      accountType: 'ACCOUNT_TYPE_SYSTEM',
      login: '',
      loginAliases: [],
    });
  });

  it('decodes an annotation of a type it does not declare as its raw bytes', () => {
    const any = {
      typeUrl: 'type.googleapis.com/c1.connector.v2.SomethingNew',
      value: new Uint8Array([8, 1]),
    };
    expect(decodeAnnotation(any)).toEqual({
      typeUrl: any.typeUrl,
      typeName: 'c1.connector.v2.SomethingNew',
      value: new Uint8Array([8, 1]),
    });
  });

  it('decodes grant data back to the same message', () => {
    const grant: C1Grant = {
      id: 'g',
      entitlementId: 'e',
      resource: { type: 'r', id: '1' },
      principal: { type: 'u', id: '2' },
      annotations: [{ type: 'GrantImmutable' }],
    };
    const message = decodeGrant(encodeGrant(grant).data);
    expect(message.id).toBe('g');
    expect(message.entitlement?.id).toBe('e');
    expect(message.principal?.id).toEqual({ resourceType: 'u', resource: '2', batonResource: false });
    expect(message.annotations.map((a) => [a.typeName, a.message])).toEqual([
      ['c1.connector.v2.GrantImmutable', { sourceId: '', metadata: null }],
    ]);
  });
});
