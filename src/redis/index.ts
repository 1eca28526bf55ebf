export { RedisBroker, type RedisBrokerOptions } from './broker.js';
export type { RedisClient, RedisCluster } from './connection.js';
export {
  BrokerClientClosedError,
  BrokerClosedError,
  BrokerReplyError,
  BrokerUnavailableError,
  RedisBrokerError,
} from './errors.js';
export type { BrokerHealth } from './health.js';
