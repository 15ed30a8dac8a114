export { createLogger, silentLogger } from './logger.js';
export type { Logger, LogLevel, LogRecord, LoggerOptions } from './logger.js';
