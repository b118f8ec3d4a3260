// Placeholder: the iam API is being written. Routes nothing yet, so every call is an unknown operation.
import type { AwsService } from './server.js';

export const iamService: AwsService = { name: 'iam', route: () => undefined };
