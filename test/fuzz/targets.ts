// Every fuzz target, in the order the runs go through them.
import type { FuzzTarget } from './target.js';
import { nameTarget, parseQueryTarget, readerTarget, tsigTarget } from './targets/wire.js';
import { rdataTarget, writerTarget } from './targets/rdata.js';
import { masterZoneTarget, yamlZoneTarget } from './targets/zones.js';
import { xfrTarget } from './targets/xfr.js';
import { apiTarget } from './targets/api.js';

export const targets: FuzzTarget[] = [
  parseQueryTarget, readerTarget, nameTarget, rdataTarget, writerTarget, tsigTarget, yamlZoneTarget, masterZoneTarget, xfrTarget, apiTarget,
];
