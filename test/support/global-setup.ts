// Builds dist/ (bundles and the pre-initialised cluster template) once before the suites run:
// integration tests start servers from the template, and runtime tests load the built bundles.
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
}
