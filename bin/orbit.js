#!/usr/bin/env node
// The built CLI (npm run build); `npm start` builds first.
import '../dist/cli/main.js';
