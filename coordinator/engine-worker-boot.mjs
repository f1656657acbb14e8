// Worker entry: threads do not inherit the parent's tsx loader, so register it before loading the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./engine-worker.ts');
