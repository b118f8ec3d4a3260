// Placeholder: the sts API is being written. Routes nothing yet, so every call is an unknown operation.
import type { AwsService } from './server.js';

export const stsService: AwsService = { name: 'sts', route: () => undefined };
