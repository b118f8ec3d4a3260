// Routing of awsQuery services: the action and API version travel as form parameters, and an
// action the service does not know (or a version it does not speak) is left to the server, which
// answers InvalidAction as AWS does.
import type { AwsCall, AwsReply, AwsService, AwsUnsignedCall } from './server.js';

export type QueryHandler = (call: AwsCall) => AwsReply | Promise<AwsReply>;

/** An action AWS answers without a signature; `account` names who its rate limits count against. */
export interface UnsignedQueryHandler {
  handle(call: AwsUnsignedCall): AwsReply | Promise<AwsReply>;
  account?(params: Map<string, string>): string | undefined;
}

/** Builds an awsQuery service answering `handlers` (keyed by action name) for one API version. */
export function createQueryService(
  name: 'sts' | 'iam',
  version: string,
  handlers: Record<string, QueryHandler>,
  unsignedHandlers: Record<string, UnsignedQueryHandler> = {},
  resources: Record<string, (call: AwsCall) => string> = {},
): AwsService {
  const resourceOf = new Map(Object.entries(resources));
  // Maps so that action names such as "constructor" never reach Object.prototype.
  const byAction = new Map(Object.entries(handlers));
  const unsigned = new Map(Object.entries(unsignedHandlers));
  return {
    name,
    route(req) {
      if (req.params.get('Version') !== version) return undefined;
      const action = req.params.get('Action');
      if (action === undefined) return undefined;
      const open = unsigned.get(action);
      if (open) {
        const account = open.account?.(req.params);
        return {
          operation: action,
          unsigned: true,
          handle: (call) => open.handle(call),
          ...(account ? { account } : {}),
        };
      }
      const handle = byAction.get(action);
      const resource = resourceOf.get(action);
      if (handle === undefined) return undefined;
      return resource === undefined ? { operation: action, handle } : { operation: action, handle, resource };
    },
  };
}
