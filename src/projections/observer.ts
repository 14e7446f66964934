/**
 * What the projection runner reports for metrics, as it happens. Only events go through
 * here (a batch committed); state (status, leadership, lag) is read when metrics are
 * scraped, so nothing on the batch path waits for it. The metrics module implements it;
 * the default ignores everything.
 */
export interface ProjectionObserver {
  /**
   * A batch is about to be applied. The returned function is called once, when the batch
   * has committed, with the number of events it held; a batch that does not commit
   * (handler failure, moved checkpoint, lost connection) never calls it.
   */
  batchStarted(projection: string): (committedEvents: number) => void;
}

const ignoreBatch = (): void => undefined;

export const silentObserver: ProjectionObserver = {
  batchStarted: () => ignoreBatch,
};
