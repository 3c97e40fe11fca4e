/** Sessions of port-less OpenCode TUIs, read from OpenCode's shared database. */
export { DbSessionSource, type DbSessionSourceOptions } from './dbSessionSource';
export { inferSession, isOpenAssistantMessage, INTERRUPTED, type InferenceContext } from './inference';
export { OpencodeDb, DB_FILE_NAME, DB_QUERIES, type DbState, type ReadResult, type ReadOptions } from './opencodeDb';
export { createProcessProbe, LinuxProcessProbe, type ProcessProbe } from './processProbe';
export { loadNodeSqlite, unavailableReason, isBusyError, type SqliteLoad, type SqliteModule, type SqliteDatabase, type SqliteStatement } from './sqlite';
export type { DbMessageRow, DbSessionRecord, DbSessionRow, DbTodoRow, DbToolRow } from './types';
