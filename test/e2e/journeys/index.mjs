// The journeys, in the order a person would take them.
import { catalogSmoke } from './catalogSmoke.mjs';

export const journeys = [catalogSmoke];
