import type { App } from '../../app-type.js';
import type { AppDeps } from '../../deps.js';
import { registerListEvents } from './list-events.js';
import { registerStreamEvents } from './stream-events.js';

/** Change-event routes. */
export function registerEventRoutes(app: App, deps: AppDeps): void {
  registerListEvents(app, deps);
  registerStreamEvents(app, deps);
}
