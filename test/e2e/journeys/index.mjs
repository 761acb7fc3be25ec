// The journeys, in the order a person would take them (later ones use what earlier ones created).
import { catalogSmoke } from './catalogSmoke.mjs';
import { createService } from './createService.mjs';
import { canaryPromote } from './canaryPromote.mjs';
import { blueGreen } from './blueGreen.mjs';
import { healthGate } from './healthGate.mjs';
import { nonOwner } from './nonOwner.mjs';
import { argoRollouts } from './argoRollouts.mjs';
import { releasePipeline } from './releasePipeline.mjs';

export const journeys = [
  catalogSmoke,
  createService,
  canaryPromote,
  blueGreen,
  healthGate,
  nonOwner,
  argoRollouts,
  releasePipeline,
];
