import { it } from 'vitest';
import { checkClockExample } from './run-example.js';

it('examples/nextjs-route streams the clock, resumes from Last-Event-ID and shuts down cleanly', () =>
  checkClockExample('nextjs-route'));
