export { RedisBroker, type RedisBrokerOptions } from './broker.js';
export type { RedisClient, RedisCluster } from './connection.js';
export {
  BrokerClosedError,
  BrokerReplyError,
  BrokerUnavailableError,
  RedisBrokerError,
} from './errors.js';
