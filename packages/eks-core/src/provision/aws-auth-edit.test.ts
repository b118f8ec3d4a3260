import { describe, expect, it } from 'vitest';
import { parseAwsAuth } from '../identity/aws-auth.js';
import { addGroupToMapping, appendMapping, assertOnlyEntryChanged } from './aws-auth-edit.js';
import { bindingName, managedGroupFor, principalHash } from './names.js';

const ROLE = {
  rolearn: 'arn:aws:iam::111111111111:role/New',
  username: 'eks-access:abc:{{SessionName}}',
  groups: ['eks-access:abc'],
};

function mappings(key: 'mapRoles' | 'mapUsers', text: string) {
  const parsed = parseAwsAuth({ [key]: text });
  return parsed.mappings;
}

describe('appending an aws-auth entry', () => {
  it('creates the list when the key is missing or empty', () => {
    for (const before of [undefined, '', '""', '[]']) {
      const after = appendMapping('mapRoles', before, ROLE);
      expect(mappings('mapRoles', after)).toEqual([
        expect.objectContaining({ roleArn: ROLE.rolearn, username: ROLE.username, groups: ROLE.groups }),
      ]);
    }
  });

  it('keeps every existing byte, comments and odd formatting included, and matches the list indentation', () => {
    const before = [
      '  # managed by eksctl',
      '  - rolearn: arn:aws:iam::111111111111:role/Nodes   # nodes',
      '    username: system:node:{{EC2PrivateDNSName}}',
      '    groups: [system:bootstrappers, system:nodes]',
      '    extra: 0123',
      "  - rolearn: 'arn:aws:iam::111111111111:role/Admin'",
      '    username: "admin:{{SessionName}}"',
      '    groups:',
      '      - system:masters',
      '',
    ].join('\n');
    const after = appendMapping('mapRoles', before, ROLE);
    expect(after.startsWith(before)).toBe(true);
    expect(after.slice(before.length)).toBe(
      [
        '  - rolearn: arn:aws:iam::111111111111:role/New',
        '    username: eks-access:abc:{{SessionName}}',
        '    groups:',
        '      - eks-access:abc',
        '',
      ].join('\n'),
    );
    assertOnlyEntryChanged('mapRoles', before, after, 'appended');
    expect(mappings('mapRoles', after).map((m) => (m.key === 'mapRoles' ? m.roleArn : ''))).toEqual([
      'arn:aws:iam::111111111111:role/Nodes',
      'arn:aws:iam::111111111111:role/Admin',
      ROLE.rolearn,
    ]);
  });

  it('adds a newline when the last entry has none', () => {
    const before = '- userarn: arn:aws:iam::111111111111:user/bob\n  username: bob';
    const after = appendMapping('mapUsers', before, {
      userarn: 'arn:aws:iam::111111111111:user/carol',
      username: 'eks-access:x',
      groups: ['eks-access:x'],
    });
    expect(after.startsWith(`${before}\n- userarn: arn:aws:iam::111111111111:user/carol\n`)).toBe(true);
    expect(mappings('mapUsers', after)).toHaveLength(2);
  });

  it('re-renders a flow list, the one case where other entries are rewritten', () => {
    const before = '[{rolearn: "arn:aws:iam::111111111111:role/A", username: a, groups: [g]}]';
    const after = appendMapping('mapRoles', before, ROLE);
    assertOnlyEntryChanged('mapRoles', before, after, 'appended');
    expect(mappings('mapRoles', after)).toHaveLength(2);
  });

  it('refuses to touch a key that does not parse or is not a list', () => {
    expect(() => appendMapping('mapRoles', '- rolearn: [unclosed', ROLE)).toThrow(
      expect.objectContaining({ code: 'PROVISIONING_REFUSED' }),
    );
    expect(() => appendMapping('mapRoles', 'rolearn: x', ROLE)).toThrow(
      expect.objectContaining({ code: 'PROVISIONING_REFUSED' }),
    );
  });
});

describe('adding a group to an owned aws-auth entry', () => {
  const before = [
    '- rolearn: arn:aws:iam::111111111111:role/Nodes',
    '  username: system:node:{{EC2PrivateDNSName}}',
    '  groups: [system:bootstrappers, system:nodes]',
    '- rolearn: arn:aws:iam::111111111111:role/Mine',
    '  username: eks-access:abc:{{SessionName}}',
    '  groups:',
    '  - eks-access:old',
    '  note: 0123',
    '- rolearn: arn:aws:iam::111111111111:role/Last',
    "  username: 'last'",
    '',
  ].join('\n');

  it('rewrites only that entry and keeps its unknown fields as written', () => {
    const after = addGroupToMapping('mapRoles', before, 1, 'eks-access:abc');
    const head = before.slice(0, before.indexOf('rolearn: arn:aws:iam::111111111111:role/Mine'));
    const tail = before.slice(before.indexOf('- rolearn: arn:aws:iam::111111111111:role/Last'));
    expect(after.startsWith(head)).toBe(true);
    expect(after.endsWith(tail)).toBe(true);
    expect(after).toContain('note: 0123');
    assertOnlyEntryChanged('mapRoles', before, after, 1);
    expect(mappings('mapRoles', after)[1]).toMatchObject({ groups: ['eks-access:old', 'eks-access:abc'] });
  });

  it('adds a groups field when the entry has none', () => {
    const text = '- userarn: arn:aws:iam::111111111111:user/a\n  username: eks-access:a\n';
    const after = addGroupToMapping('mapUsers', text, 0, 'eks-access:a');
    expect(mappings('mapUsers', after)[0]).toMatchObject({ groups: ['eks-access:a'] });
  });

  it('the safety check catches an edit that changes another entry', () => {
    const broken = before.replace("username: 'last'", 'username: other');
    expect(() => assertOnlyEntryChanged('mapRoles', before, broken, 1)).toThrow(/changes entry #2/);
  });
});

describe('names', () => {
  const arn =
    'arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Dev_0123456789abcdef';

  it('derive the managed group and binding names from the principal ARN alone', () => {
    expect(principalHash(arn)).toMatch(/^[0-9a-f]{20}$/);
    expect(managedGroupFor(arn)).toBe(`eks-access:${principalHash(arn)}`);
    expect(bindingName('view', arn)).toBe(`eks-access-view-${principalHash(arn)}`);
    expect(bindingName('view', arn, 'team-a')).toBe(`eks-access-view-team-a-${principalHash(arn)}`);
  });

  it('make role names safe without letting two roles share a binding name', () => {
    const a = bindingName('system:aggregate-to-edit', arn);
    const b = bindingName('system-aggregate-to-edit', arn);
    expect(a).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
    expect(a).not.toBe(b);
    const long = bindingName('x'.repeat(300), arn, 'team-a');
    expect(long.length).toBeLessThanOrEqual(253);
    expect(long.endsWith(`team-a-${principalHash(arn)}`)).toBe(true);
  });
});
