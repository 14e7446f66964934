import { describe, expect, it } from 'vitest';
import { position } from '../../src/application/ports/position.js';
import { DeliveryFloors } from '../../src/infrastructure/realtime/delivery-floors.js';

describe('DeliveryFloors', () => {
  it('holds back changes at or below a socket floor, then forgets the floor once passed', () => {
    const floors = new DeliveryFloors();
    floors.set('payment:p1', 's1', position(10n, 5n));
    expect(floors.excluded('payment:p1', position(10n, 4n))).toEqual(['s1']);
    expect(floors.excluded('payment:p1', position(10n, 5n))).toEqual(['s1']);
    expect(floors.excluded('payment:p2', position(10n, 5n))).toEqual([]);
    expect(floors.excluded('payment:p1', position(10n, 6n))).toEqual([]);
    // Passed: even an older position is no longer filtered (there is no floor left).
    expect(floors.excluded('payment:p1', position(1n, 1n))).toEqual([]);
  });

  it('forgets a socket that leaves', () => {
    const floors = new DeliveryFloors();
    floors.set('t', 's1', position(9n, 9n));
    floors.set('t', 's2', position(9n, 9n));
    floors.forget('s1', ['t']);
    expect(floors.excluded('t', position(1n, 1n))).toEqual(['s2']);
  });
});
