/** A long-running part of the gateway, started and stopped by the process in order. */
export interface Service {
  readonly name: string;
  readonly status: string;
  start(): Promise<void>;
  /** Graceful: stop taking work, finish what is in flight. */
  stop(): Promise<void>;
}
