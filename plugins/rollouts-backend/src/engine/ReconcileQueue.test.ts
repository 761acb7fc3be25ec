import { ReconcileQueue } from './ReconcileQueue';

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

describe('ReconcileQueue', () => {
  it('reconciles a burst of changes to one key once', async () => {
    const runs: string[] = [];
    const queue = new ReconcileQueue(async key => {
      runs.push(key);
    }, 10);
    for (let i = 0; i < 20; i++) queue.add('a');
    queue.add('b');
    await sleep(30);
    await queue.settled();
    expect(runs.sort()).toEqual(['a', 'b']);
  });

  it('never runs one key twice at once, and runs it again for a change that came meanwhile', async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const queue = new ReconcileQueue(async () => {
      active++;
      runs++;
      maxActive = Math.max(maxActive, active);
      await sleep(40);
      active--;
    }, 5);
    queue.add('a');
    await sleep(20); // the first run is under way
    queue.add('a');
    queue.add('a');
    await sleep(10);
    await queue.settled();
    await sleep(20);
    await queue.settled();
    expect(maxActive).toBe(1);
    expect(runs).toBe(2);
  });

  it('keeps the earliest of several delayed reconciles of a key', async () => {
    const at: number[] = [];
    const started = Date.now();
    const queue = new ReconcileQueue(async () => {
      at.push(Date.now() - started);
    }, 1);
    queue.addAfter('a', 500);
    queue.addAfter('a', 50);
    queue.addAfter('a', 300);
    await sleep(150);
    expect(at).toHaveLength(1);
    expect(at[0]).toBeGreaterThanOrEqual(45);
    await sleep(500);
    expect(at).toHaveLength(1);
  });

  it('keeps going after a failed reconcile', async () => {
    const runs: string[] = [];
    const queue = new ReconcileQueue(async key => {
      runs.push(key);
      if (key === 'bad') throw new Error('cluster away');
    }, 1);
    queue.add('bad');
    await sleep(10);
    await queue.settled();
    queue.add('good');
    await sleep(10);
    await queue.settled();
    expect(runs).toEqual(['bad', 'good']);
  });

  it('takes no work once stopped and drops what was waiting', async () => {
    const runs: string[] = [];
    const queue = new ReconcileQueue(async key => {
      runs.push(key);
    }, 20);
    queue.add('a');
    queue.addAfter('b', 10);
    await queue.stop();
    queue.add('c');
    await sleep(60);
    expect(runs).toEqual([]);
  });
});
