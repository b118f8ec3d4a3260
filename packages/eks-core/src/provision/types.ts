// The public shapes of a provisioning run and the step log every operation writes to. A step is one
// AWS or Kubernetes write (or a write found unnecessary); the log is the plan of a dry run and the
// audit trail of a real one, so it carries request bodies and before/after, never credentials.

/** One grant or revoke: a baton entitlement id and an IAM principal. */
export interface AccessChange {
  entitlementId: string;
  principal: { type: 'iam_user' | 'role'; arn: string };
}

/** One write against AWS or Kubernetes: planned (dry run), applied, or unchanged (already in place). */
export interface ProvisionStep {
  system: 'eks' | 'kubernetes';
  /** `CreateAccessEntry`, `AssociateAccessPolicy`, `create:rolebindings`, `update:configmaps`… */
  operation: string;
  /** What the call is about: a principal ARN, `<namespace>/<name>` of an object, a policy ARN. */
  target: string;
  request?: unknown;
  state: 'planned' | 'applied' | 'unchanged';
  before?: unknown;
  after?: unknown;
  /** Why the step is what it is (a scope widened, a mapping carried over, a conflict retried). */
  note?: string;
}

/** What a grant or revoke did (or, in a dry run, would do). */
export interface ProvisionOutcome {
  result: 'granted' | 'already-granted' | 'revoked' | 'already-revoked' | 'planned';
  steps: ProvisionStep[];
  /** Things a reviewer should know that are not a call: skipped checks, ambiguities, what was left in place. */
  notes: string[];
}

export interface ProvisionOptions {
  /** Read the current state and return the plan; write nothing. */
  dryRun?: boolean;
}

type StepInput = Omit<ProvisionStep, 'state'>;

/** Collects the steps of one run; in a dry run it records writes instead of performing them. */
export class StepLog {
  readonly steps: ProvisionStep[] = [];
  readonly notes: string[] = [];

  constructor(readonly dryRun: boolean) {}

  /** Records a write that was not needed because the state already matched. */
  unchanged(step: StepInput): void {
    this.steps.push({ ...step, state: 'unchanged' });
  }

  /**
   * Performs a write (or only plans it in a dry run). `after` derives the recorded after-state from
   * the call's result; a dry run records the intended after-state given in `step.after`.
   */
  async write<T>(
    step: StepInput,
    apply: () => Promise<T>,
    after?: (result: T) => unknown,
  ): Promise<T | undefined> {
    if (this.dryRun) {
      this.steps.push({ ...step, state: 'planned' });
      return undefined;
    }
    const result = await apply();
    const recorded = after ? after(result) : step.after;
    this.steps.push({ ...step, state: 'applied', ...(recorded === undefined ? {} : { after: recorded }) });
    return result;
  }

  note(text: string): void {
    if (!this.notes.includes(text)) this.notes.push(text);
  }

  /** True once any write was applied or planned. */
  changed(): boolean {
    return this.steps.some((s) => s.state !== 'unchanged');
  }
}
