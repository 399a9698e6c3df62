// Imported first by the server entry point (src/index.ts): fails at import, with the
// npm command to run, when a peer dependency of the server side is not installed.
import { assertServerPeerDependencies } from './peer-dependencies';

assertServerPeerDependencies();
