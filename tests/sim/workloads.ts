/** The simulator's workloads by name. */
import { echoWorkload } from './echo-workload.js';
import { http1Workload } from './http1-workload.js';
import { http2Workload } from './http2-workload.js';
import { slowPeerWorkload } from './slow-peer-workload.js';
import type { Workload } from './simulation.js';
import { websocketWorkload } from './websocket-workload.js';

/** Every workload `npm run sim` and the seed-range test run. */
export const WORKLOADS: Readonly<Record<string, Workload>> = {
  http2: http2Workload,
  http1: http1Workload,
  websocket: websocketWorkload,
  echo: echoWorkload,
  'slow-peer': slowPeerWorkload,
};
