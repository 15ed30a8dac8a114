export { createLogger, silentLogger, LOG_LEVELS } from './logger.js';
export type { Logger, LogLevel, LogRecord, LoggerOptions } from './logger.js';
