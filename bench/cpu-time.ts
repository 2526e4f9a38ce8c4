import fs from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ: 100 on every Linux we run on). */
const TICKS_PER_SECOND = 100;

/** Fields 14–17 of /proc/<pid>/stat: the process's own user and system time, and its reaped children's. */
function statTicks(pid: number): { own: number; children: number } {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; every field after its closing parenthesis is plain.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    // fields[0] is field 3 (state): utime is field 14 → index 11.
    return { own: fields[11]! + fields[12]!, children: fields[13]! + fields[14]! };
  } catch {
    return { own: 0, children: 0 };
  }
}

function childPids(pid: number): number[] {
  try {
    return fs.readdirSync(`/proc/${pid}/task`).flatMap((task) => {
      try {
        return fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
      } catch {
        return [];
      }
    });
  } catch {
    return [];
  }
}

/**
 * CPU seconds a process and everything below it used so far: its own, its reaped children's
 * (cutime/cstime: PostgreSQL's backends that already exited) and its live children's. Two
 * readings bracket a measurement.
 */
export function cpuSecondsOfTree(pid: number): number {
  const root = statTicks(pid);
  let ticks = root.own + root.children;
  const queue = childPids(pid);
  while (queue.length > 0) {
    const child = queue.shift()!;
    const { own, children } = statTicks(child);
    ticks += own + children;
    queue.push(...childPids(child));
  }
  return ticks / TICKS_PER_SECOND;
}

/** The postmaster's pid, from the first line of postmaster.pid in the data directory. */
export function postmasterPid(postgresDataDir: string): number {
  return Number(fs.readFileSync(`${postgresDataDir}/postmaster.pid`, 'utf8').split('\n')[0]);
}
