// `npm run build`: pre-bundle the workflows so workers start without running webpack.
import { buildWorkflowBundle } from '../src/workflow-bundle.js';

buildWorkflowBundle().then((file) => console.log(`workflow bundle written to ${file}`));
