import { createApp } from '@backstage/frontend-defaults';
import catalogPlugin from '@backstage/plugin-catalog/alpha';
import { navModule } from './modules/nav';
import { scaffolderModule } from './modules/scaffolder';
import { signInModule } from './modules/signIn';

/**
 * The portal runs on Backstage's new frontend system: features are discovered from this package's
 * dependencies (`app.packages: all`), so the Kubernetes plugin's tab and the rollouts plugin's card
 * and Deployment tab appear on entity pages without hand-written routes.
 */
export default createApp({
  features: [catalogPlugin, navModule, signInModule, scaffolderModule],
});
