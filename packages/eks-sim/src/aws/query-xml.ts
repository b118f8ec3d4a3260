// awsQuery replies (STS, IAM): `<ActionResponse><ActionResult>…</ActionResult><ResponseMetadata>…`
// in the service's namespace. Results are described as plain objects so handlers never build XML by
// hand and every value passes through one escaping point.
import { QUERY_NAMESPACES, xmlEscape, type AwsReply } from './server.js';

/** A result field: scalars become text, objects nested elements, arrays `<member>` lists. */
export type XmlField = string | number | boolean | Date | undefined | XmlFields | readonly XmlField[];

export interface XmlFields {
  readonly [name: string]: XmlField;
}

/** An instant as AWS writes it in query XML: ISO 8601 to the second (`2024-01-01T00:00:00Z`). */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function renderValue(value: Exclude<XmlField, undefined>): string {
  if (value instanceof Date) return isoSeconds(value);
  if (Array.isArray(value)) {
    return (value as readonly XmlField[])
      .filter((v) => v !== undefined)
      .map((v) => `<member>${renderValue(v)}</member>`)
      .join('');
  }
  if (typeof value === 'object') return renderFields(value as XmlFields);
  return xmlEscape(String(value));
}

/** Renders fields as sibling elements in insertion order, leaving out undefined ones as AWS omits absent members. */
export function renderFields(fields: XmlFields): string {
  let out = '';
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    out += `<${name}>${renderValue(value)}</${name}>`;
  }
  return out;
}

/** The complete awsQuery reply of one action; `result` undefined means the action has no Result element. */
export function queryReply(
  service: 'sts' | 'iam',
  action: string,
  requestId: string,
  result?: XmlFields,
): AwsReply {
  const resultXml = result === undefined ? '' : `<${action}Result>${renderFields(result)}</${action}Result>`;
  return {
    body:
      `<${action}Response xmlns="${QUERY_NAMESPACES[service]}">${resultXml}` +
      `<ResponseMetadata><RequestId>${xmlEscape(requestId)}</RequestId></ResponseMetadata></${action}Response>`,
  };
}
