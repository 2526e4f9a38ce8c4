import { execFileSync, execSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * The revision before the newest commit that changed workflow code (src/workflows): a deploy
 * from it to this checkout crosses a real change of workflow code, the case `patched()` exists for.
 */
export function revisionBeforeLastWorkflowChange(): string {
  const last = execFileSync('git', ['log', '-1', '--format=%H', '--', 'src/workflows'], { encoding: 'utf8' }).trim();
  if (!last) throw new Error('no commit changed src/workflows: nothing to deploy from (pass --deploy-from <revision>)');
  return execFileSync('git', ['rev-parse', `${last}^`], { encoding: 'utf8' }).trim();
}

/**
 * The tree of `revision` exported (git archive: the repository itself is not touched) into
 * .cluster/revisions/<sha>, with this checkout's node_modules and its workflow bundle built:
 * a worker started there is that revision's worker.
 */
export function exportRevision(revision: string): string {
  const sha = execFileSync('git', ['rev-parse', '--verify', `${revision}^{commit}`], { encoding: 'utf8' }).trim();
  const dir = path.resolve('.cluster', 'revisions', sha);
  if (!fs.existsSync(path.join(dir, '.exported'))) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    execSync(`git archive --format=tar ${sha} | tar -x -C ${JSON.stringify(dir)}`);
    fs.symlinkSync(path.resolve('node_modules'), path.join(dir, 'node_modules'), 'dir');
    // Bundled now, so its workers poll at once instead of spending their first seconds in webpack.
    if (fs.existsSync(path.join(dir, 'scripts/build-workflow-bundle.ts'))) {
      execFileSync(process.execPath, ['--import', 'tsx', 'scripts/build-workflow-bundle.ts'], { cwd: dir, stdio: 'ignore' });
    }
    fs.writeFileSync(path.join(dir, '.exported'), `${sha}\n`);
  }
  return dir;
}
