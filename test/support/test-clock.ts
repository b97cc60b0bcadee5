/** A clock a test moves by hand: give a connection `now: clock.read`, then `clock.advance(ms)`. */
export interface TestClock {
  /** The time it shows. */
  now: Date
  read(): Date
  advance(ms: number): void
}

export function testClock(start: string | Date): TestClock {
  const clock: TestClock = {
    now: new Date(start),
    read: () => clock.now,
    advance: (ms) => {
      clock.now = new Date(clock.now.getTime() + ms)
    },
  }
  return clock
}
