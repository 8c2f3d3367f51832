import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/node/logger.ts';

function sink() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  return { lines, stream };
}

describe('logger', () => {
  it('writes JSON lines with level filtering', () => {
    const { lines, stream } = sink();
    const log = createLogger({ level: 'info', destination: stream });
    log.debug('hidden');
    log.info({ height: 3 }, 'committed');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ msg: 'committed', height: 3, level: 30 });
  });

  it('redacts secrets wherever they appear', () => {
    const { lines, stream } = sink();
    const log = createLogger({ destination: stream });
    log.info(
      { seed: 'aa11', key: { seed: 'bb22', privateKey: 'cc33' }, config: { tsa: { password: 'dd44' } } },
      'x',
    );
    expect(lines[0]).not.toMatch(/aa11|bb22|cc33|dd44/);
    expect(lines[0]).toMatch(/\[redacted\]/);
  });

  it('pretty format is human-readable, not JSON', () => {
    const { lines, stream } = sink();
    const log = createLogger({ format: 'pretty', destination: stream });
    log.warn({ peer: 'p1' }, 'peer refused');
    expect(lines.join('\n')).toMatch(/WARN.*peer refused/);
    expect(() => JSON.parse(lines[0]!)).toThrow();
  });
});
