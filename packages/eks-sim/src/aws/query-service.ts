// Routing of awsQuery services: the action and API version travel as form parameters, and an
// action the service does not know (or a version it does not speak) is left to the server, which
// answers InvalidAction as AWS does.
import type { AwsCall, AwsReply, AwsService } from './server.js';

export type QueryHandler = (call: AwsCall) => AwsReply | Promise<AwsReply>;

/** Builds an awsQuery service answering `handlers` (keyed by action name) for one API version. */
export function createQueryService(
  name: 'sts' | 'iam',
  version: string,
  handlers: Record<string, QueryHandler>,
): AwsService {
  // A Map so that action names such as "constructor" never reach Object.prototype.
  const byAction = new Map(Object.entries(handlers));
  return {
    name,
    route(req) {
      if (req.params.get('Version') !== version) return undefined;
      const action = req.params.get('Action');
      const handle = action === undefined ? undefined : byAction.get(action);
      if (action === undefined || handle === undefined) return undefined;
      return { operation: action, handle };
    },
  };
}
