import type { App } from '../../app-type.js';
import type { AppDeps } from '../../deps.js';
import { registerListUploads } from './list-uploads.js';
import { registerRetryUpload } from './retry-upload.js';

/** Upload routes: the c1z uploads to ConductorOne and their dead letters. */
export function registerUploadRoutes(app: App, deps: AppDeps): void {
  registerListUploads(app, deps);
  registerRetryUpload(app, deps);
}
