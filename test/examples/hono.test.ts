import { it } from 'vitest';
import { checkClockExample } from './run-example.js';

it('examples/hono streams the clock, resumes from Last-Event-ID and shuts down cleanly', () =>
  checkClockExample('hono'));
