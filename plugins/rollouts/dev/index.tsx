import { createRolloutsDevApp, signInAsFrontendGuest } from './devApp';

signInAsFrontendGuest();
createRolloutsDevApp().render();
