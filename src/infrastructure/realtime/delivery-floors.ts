import type { PositionParts } from '../../application/ports/position.js';
import { comparePositions } from '../../application/ports/position.js';

/**
 * A socket that subscribed with `since` already has every change up to its floor
 * (`since`, or the last backlog change it was sent). When the read model was behind the
 * client's position at subscribe time, live changes at or below that floor can still
 * come through the room afterwards; these floors keep them from being delivered twice.
 * A floor is dropped as soon as a change above it passes, since a topic's changes come in
 * position order.
 */
export class DeliveryFloors {
  readonly #byTopic = new Map<string, Map<string, PositionParts>>();

  set(topic: string, socketId: string, floor: PositionParts): void {
    let floors = this.#byTopic.get(topic);
    if (!floors) this.#byTopic.set(topic, (floors = new Map<string, PositionParts>()));
    floors.set(socketId, floor);
  }

  /** Sockets of `topic` that must not receive a change at `at`; forgets floors it has passed. */
  excluded(topic: string, at: PositionParts): string[] {
    const floors = this.#byTopic.get(topic);
    if (!floors) return [];
    const excluded: string[] = [];
    for (const [socketId, floor] of floors) {
      if (comparePositions(at, floor) <= 0) excluded.push(socketId);
      else floors.delete(socketId);
    }
    if (floors.size === 0) this.#byTopic.delete(topic);
    return excluded;
  }

  forget(socketId: string, topics: Iterable<string>): void {
    for (const topic of topics) {
      const floors = this.#byTopic.get(topic);
      floors?.delete(socketId);
      if (floors?.size === 0) this.#byTopic.delete(topic);
    }
  }
}
