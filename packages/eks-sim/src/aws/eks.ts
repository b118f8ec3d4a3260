// Placeholder: the eks API is being written. Routes nothing yet, so every call is an unknown operation.
import type { AwsService } from './server.js';

export const eksService: AwsService = { name: 'eks', route: () => undefined };
