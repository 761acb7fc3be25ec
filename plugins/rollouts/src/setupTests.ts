import '@testing-library/jest-dom';
import { configure } from '@testing-library/react';

// The suite runs on shared CI cores next to other packages' tests: give async queries and whole
// dialog flows room, so slowness never reads as a failure (a wrong screen still fails).
configure({ asyncUtilTimeout: 10_000 });
jest.setTimeout(30_000);
