// `npm run build`: pre-bundle the workflows so workers start without running webpack.
import { buildWorkflowBundle } from '../src/workflow-bundle.js';

// Both kinds (src/workflow-bundle.ts): OpenTelemetry's workflow interceptors over the SDK's tracer, and over the API's no-op tracer.
for (const kind of ['traced', 'untraced'] as const) console.log(`workflow bundle (${kind}) written to ${await buildWorkflowBundle(kind)}`);
