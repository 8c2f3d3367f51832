/** A CPU profile of one part of a benchmark (the timed part, not its set-up), through the inspector. */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

/** Runs `f`; when `file` is set, profiles it and writes the .cpuprofile there (bench/profile-summary.ts reads it). */
export async function profiled<T>(file: string | undefined, f: () => Promise<T>): Promise<T> {
  if (file === undefined) return f();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await f();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  }
}
