// The human summary of one cluster sync: what was read (and what could not be), how much of each
// type, and who holds which access, grouped by IAM principal.
import type { Grant, SyncReport } from '@eks-access/eks-core';

const STATE_MARK = { read: 'read', not_applicable: 'not applicable', failed: 'FAILED' } as const;

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '))
    .join('\n');
}

export function shortArn(arn: string): string {
  const m = /^arn:[^:]+:iam::(\d{12}):(user|role)\/(?:(.*)\/)?([^/]+)$/.exec(arn);
  return m ? `${m[2]}/${m[4]} (${m[1]}${m[3] ? `, path /${m[3]}/` : ''})` : arn;
}

function describeEntitlement(g: Grant): string {
  const id = g.entitlementId;
  switch (g.resource.type) {
    case 'cluster_role': {
      const scope = id.slice(`cluster_role:${g.resource.id}:`.length).replace(/:member$/, '');
      return `ClusterRole ${g.resource.id} ${scope === 'all' ? 'cluster-wide' : `in ${scope}`}`;
    }
    case 'namespace_role':
      return `Role ${g.resource.id}`;
    case 'access_policy': {
      const scope = id.slice(`access_policy:${g.resource.id}:assigned:`.length);
      return `${g.resource.id.split('/').pop()} ${scope === 'cluster' ? 'cluster-wide' : `in ${scope}`}`;
    }
    case 'k8s_group':
      return `group ${g.resource.id}`;
    case 'role':
      return `can assume ${shortArn(g.resource.id)}`;
    default:
      return id;
  }
}

function via(g: Grant): string {
  const parts = (g.sources ?? []).map((s) => {
    switch (s.kind) {
      case 'rbac-binding':
        return `${s.binding.kind} ${s.binding.namespace ? `${s.binding.namespace}/` : ''}${s.binding.name}`;
      case 'identity-mapping':
        return s.identity.kind === 'aws-auth'
          ? `aws-auth ${s.identity.key}[${s.identity.index}]`
          : s.identity.kind === 'access-entry'
            ? 'access entry'
            : 'every authenticated identity';
      case 'access-policy-association':
        return 'access entry policy association';
      case 'trust-policy':
        return `trust policy statement ${s.statementIndex}${s.sid ? ` (${s.sid})` : ''}`;
    }
  });
  const conditions = (g.conditions ?? []).map((c) =>
    c.kind === 'external-id-required'
      ? 'needs ExternalId'
      : c.kind === 'session-name'
        ? `session ${c.value}`
        : c.kind === 'iam-condition'
          ? `if ${c.key}`
          : c.kind,
  );
  return [...new Set(parts)].join('; ') + (conditions.length > 0 ? ` [${conditions.join(', ')}]` : '');
}

/** Formats the report and the IAM principals' grants as the CLI's table output. */
export function formatSummary(report: SyncReport, grants: Grant[]): string {
  const c = report.cluster;
  const lines: string[] = [];
  lines.push(`Cluster ${c.name} (${c.arn})`);
  lines.push(
    `  region ${c.region} · account ${c.accountId} · Kubernetes ${c.version} · authentication mode ${c.authenticationMode} · ${report.status}`,
  );
  lines.push('');
  lines.push('Sources');
  lines.push(
    table(
      Object.entries(report.sources)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([name, s]) => [
          '  ' + name,
          STATE_MARK[s.state],
          s.state === 'failed' ? s.message : s.state === 'not_applicable' ? s.reason : (s.note ?? ''),
        ]),
    ),
  );
  lines.push('');
  const types = [
    ...new Set([...Object.keys(report.counts.resources), ...Object.keys(report.counts.grants)]),
  ].sort();
  lines.push(
    table([
      ['  type', 'resources', 'entitlements', 'grants'],
      ...types.map((t) => [
        '  ' + t,
        String(report.counts.resources[t as keyof typeof report.counts.resources] ?? 0),
        String(report.counts.entitlements[t as keyof typeof report.counts.entitlements] ?? 0),
        String(report.counts.grants[t as keyof typeof report.counts.grants] ?? 0),
      ]),
    ]),
  );
  lines.push('');
  const byPrincipal = new Map<string, Grant[]>();
  for (const g of grants) {
    if (g.principal.type !== 'iam_user' && g.principal.type !== 'role') continue;
    if (g.resource.type === 'k8s_group' && g.resource.id === 'system:authenticated') continue;
    const list = byPrincipal.get(g.principal.id) ?? [];
    list.push(g);
    byPrincipal.set(g.principal.id, list);
  }
  lines.push(`IAM principals with access (${byPrincipal.size})`);
  for (const [arn, list] of [...byPrincipal].sort(([a], [b]) => (a < b ? -1 : 1))) {
    lines.push(`  ${shortArn(arn)}`);
    for (const g of list.sort((a, b) => (a.id < b.id ? -1 : 1)))
      lines.push(`    ${describeEntitlement(g)}  ← ${via(g)}`);
  }
  const masters = grants.filter((g) => g.resource.type === 'k8s_group' && g.resource.id === 'system:masters');
  const extId = grants.filter((g) => g.conditions?.some((x) => x.kind === 'external-id-required'));
  lines.push('');
  lines.push('Findings');
  lines.push(
    `  system:masters members (bypass RBAC): ${masters.length === 0 ? 'none' : masters.map((g) => shortArn(g.principal.id)).join(', ')}`,
  );
  lines.push(
    `  role assumptions that need an ExternalId: ${extId.length === 0 ? 'none' : extId.map((g) => `${shortArn(g.principal.id)} → ${shortArn(g.resource.id)}`).join(', ')}`,
  );
  const unmapped = Object.keys(report.unmappedUsers);
  if (unmapped.length > 0) lines.push(`  RBAC users no IAM principal maps to: ${unmapped.join(', ')}`);
  for (const w of report.warnings.slice(0, 20)) lines.push(`  warning: ${w}`);
  if (report.warnings.length > 20)
    lines.push(`  … and ${report.warnings.length - 20} more warnings (see --output json)`);
  lines.push('');
  lines.push(`${report.totalApiCalls} API calls in ${((report.durationMs ?? 0) / 1000).toFixed(1)} s`);
  return lines.join('\n');
}
