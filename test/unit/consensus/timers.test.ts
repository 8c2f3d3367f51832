import { describe, expect, it } from 'vitest';
import { Effects } from '../../../src/consensus/effects.ts';
import { TimerTable } from '../../../src/consensus/timers.ts';

describe('TimerTable', () => {
  it('arms a kind with its view and deadline, and emits setTimer', () => {
    const fx = new Effects();
    const timers = new TimerTable(fx);
    fx.begin(1000);
    timers.set('request', 3, 250);
    expect(timers.get('request')).toEqual({ view: 3, deadline: 1250 });
    expect(fx.finish()).toEqual([{ type: 'setTimer', kind: 'request', view: 3, ms: 250 }]);
  });

  it('setOnce leaves an armed kind alone until it is cleared; set always re-arms', () => {
    const fx = new Effects();
    const timers = new TimerTable(fx);
    fx.begin(0);
    timers.setOnce('fetch', 0, 100);
    timers.setOnce('fetch', 0, 300);
    expect(timers.get('fetch')?.deadline).toBe(100);
    timers.set('fetch', 0, 300);
    expect(timers.get('fetch')?.deadline).toBe(300);
    timers.clear('fetch');
    expect(timers.isArmed('fetch')).toBe(false);
    timers.setOnce('fetch', 1, 50);
    expect(timers.get('fetch')).toEqual({ view: 1, deadline: 50 });
    expect(fx.finish().map((o) => (o.type === 'setTimer' ? o.ms : -1))).toEqual([100, 300, 50]);
  });

  it('kinds are independent', () => {
    const fx = new Effects();
    const timers = new TimerTable(fx);
    timers.set('batch', 0, 20);
    timers.clear('request');
    expect(timers.isArmed('batch')).toBe(true);
    expect(timers.isArmed('request')).toBe(false);
  });
});
