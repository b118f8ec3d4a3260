// Reading awsQuery form parameters with the validation AWS applies before an action runs. AWS
// reports every broken constraint of a request at once ("2 validation errors detected: …"), with
// the member named in lowerCamelCase, so problems are collected and thrown together.
import { AwsError } from './server.js';

export interface StringRule {
  min?: number;
  max?: number;
  pattern?: RegExp;
  /** The pattern as AWS prints it in the message (its model's regex, not ours). */
  patternText?: string;
}

export interface IntegerRule {
  min?: number;
  max?: number;
}

function memberName(param: string): string {
  return param.charAt(0).toLowerCase() + param.slice(1);
}

/** Validating reader of one request's form parameters; call `validate()` before using what it returned. */
export class QueryParams {
  private readonly problems: string[] = [];

  constructor(private readonly params: Map<string, string>) {}

  private fail(param: string, value: string | undefined, constraint: string): void {
    const shown = value === undefined ? 'null' : `'${value}'`;
    this.problems.push(
      `Value ${shown} at '${memberName(param)}' failed to satisfy constraint: Member ${constraint}`,
    );
  }

  optionalString(param: string, rule: StringRule = {}): string | undefined {
    const value = this.params.get(param);
    if (value === undefined) return undefined;
    // Length is counted in code points, as AWS's Java validators do.
    const length = [...value].length;
    if (rule.min !== undefined && length < rule.min) {
      this.fail(param, value, `must have length greater than or equal to ${rule.min}`);
    } else if (rule.max !== undefined && length > rule.max) {
      this.fail(param, value, `must have length less than or equal to ${rule.max}`);
    } else if (rule.pattern && !rule.pattern.test(value)) {
      this.fail(
        param,
        value,
        `must satisfy regular expression pattern: ${rule.patternText ?? rule.pattern.source}`,
      );
    }
    return value;
  }

  /** A missing value is recorded as a problem and read as `''`, so callers must `validate()` first. */
  requiredString(param: string, rule: StringRule = {}): string {
    const value = this.optionalString(param, rule);
    if (value === undefined) this.fail(param, undefined, 'must not be null');
    return value ?? '';
  }

  optionalInteger(param: string, rule: IntegerRule = {}): number | undefined {
    const raw = this.params.get(param);
    if (raw === undefined) return undefined;
    if (!/^-?\d+$/.test(raw.trim())) {
      this.fail(param, raw, 'must be an integer');
      return undefined;
    }
    const value = Number(raw);
    if (rule.min !== undefined && value < rule.min)
      this.fail(param, raw, `must have value greater than or equal to ${rule.min}`);
    else if (rule.max !== undefined && value > rule.max)
      this.fail(param, raw, `must have value less than or equal to ${rule.max}`);
    return value;
  }

  /** Throws one `ValidationError` naming every problem found so far. */
  validate(): void {
    const n = this.problems.length;
    if (n === 0) return;
    throw new AwsError(
      'ValidationError',
      `${n} validation error${n === 1 ? '' : 's'} detected: ${this.problems.join('; ')}`,
      400,
    );
  }
}

/** The ValidationError AWS answers for a request that is well-formed but makes no sense. */
export function validationError(message: string): AwsError {
  return new AwsError('ValidationError', message, 400);
}
