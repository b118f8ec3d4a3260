// The doctor's report as people read it: one line per check (status, what, what was found), a
// count, then every fix with its policy, commands or YAML ready to paste.
import type { DoctorReport, SetupResult, SetupStep } from '@eks-access/eks-core';

const LABEL = { pass: 'ok', warn: 'WARN', fail: 'FAIL', skip: 'skip' } as const;

function indent(text: string, by: string): string {
  return text
    .split('\n')
    .map((l) => (l === '' ? l : `${by}${l}`))
    .join('\n');
}

/** Renders a doctor report as a table with its fixes. */
export function formatDoctor(report: DoctorReport): string {
  const c = report.cluster;
  const where = [c.region, c.accountId ? `account ${c.accountId}` : undefined, c.authenticationMode]
    .filter(Boolean)
    .join(', ');
  const lines = [`Doctor: cluster ${c.name} (${where})`];
  if (report.identity) {
    const principal =
      report.identity.principalArn !== report.identity.arn ? ` (${report.identity.principalArn})` : '';
    lines.push(`Connector: ${report.identity.arn}${principal}`);
  }
  if (report.kubernetesUser)
    lines.push(`Kubernetes user: ${report.kubernetesUser.username} via ${report.kubernetesUser.via}`);
  lines.push('');
  const width = Math.min(64, Math.max(5, ...report.checks.map((k) => k.title.length)));
  lines.push(`  ${'STATUS'.padEnd(6)}  ${'CHECK'.padEnd(width)}  DETAIL`);
  for (const check of report.checks) {
    const title =
      check.title.length > width ? `${check.title.slice(0, width - 1)}…` : check.title.padEnd(width);
    lines.push(`  ${LABEL[check.status].padEnd(6)}  ${title}  ${check.detail}`);
  }
  const count = (s: string) => report.checks.filter((k) => k.status === s).length;
  lines.push(
    '',
    `${count('fail')} failed, ${count('warn')} warnings, ${count('pass')} passed, ${count('skip')} skipped`,
  );
  if (report.fixes.length > 0) {
    lines.push('', 'Fixes');
    report.fixes.forEach((fix, i) => {
      lines.push(`${i + 1}. ${fix.summary}`, indent(fix.text, '   '), '');
    });
  }
  return lines.join('\n');
}

const STEP_LABEL: Record<SetupStep['status'], string> = {
  unchanged: 'ok',
  planned: 'PLAN',
  applied: 'DONE',
  failed: 'FAIL',
  manual: 'TODO',
};

/** One line of a setup step; `label` overrides the status label (NEXT: a write about to be made). */
export function formatStep(step: SetupStep, label?: string): string {
  return `  ${(label ?? STEP_LABEL[step.status]).padEnd(4)}  ${step.action.padEnd(26)}  ${step.target}: ${step.detail}`;
}

/** The setup's summary after its steps were printed. */
export function formatSetupSummary(result: SetupResult): string {
  const count = (s: SetupStep['status']) => result.steps.filter((st) => st.status === s).length;
  const c = result.cluster;
  const head = `Setup of ${c.name} (${c.region}, ${c.authenticationMode}) for ${result.principalArn}`;
  if (result.applied) {
    return `${head}: ${count('applied')} changes made, ${count('unchanged')} already in place${count('manual') ? `, ${count('manual')} to do by hand` : ''}`;
  }
  const planned = count('planned');
  return `${head}: ${planned === 0 ? 'nothing to change' : `${planned} changes planned; run again with --apply to make them`}, ${count('unchanged')} already in place${count('manual') ? `, ${count('manual')} to do by hand` : ''}`;
}
